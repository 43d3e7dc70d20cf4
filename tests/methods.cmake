# Methods tests (issue 10): the building blocks of L2, EWC, online EWC, SI,
# MAS, LwF, rehearsal and GEM, and torch.optim.Adagrad, against PyTorch /
# numpy references, finite differences, and the rehearsal memory's
# determinism, split and file round trip.
# Reference data: tests/data/methods/ (regenerate with /usr/bin/python3 scripts/gen_methods_reference.py).
set(CLH_METHODS_TESTS reference gradcheck errors)
if(CLH_WITH_IO) # the memory's and Adagrad's state in files
  list(APPEND CLH_METHODS_TESTS memory adagrad)
endif()
foreach(t ${CLH_METHODS_TESTS})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/methods/test_methods_${t}.c)
    clh_add_test(test_methods_${t} methods/test_methods_${t}.c refdata.c)
  endif()
endforeach()
