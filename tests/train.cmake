# Training tests (issue 3): cross-entropy and accuracy, optimizers against
# torch.optim trajectories, state growth, freezing, optimizer state save/load.
# Reference data: tests/data/train/ (regenerate with /usr/bin/python3 scripts/gen_train_reference.py).
set(CLH_TRAIN_TESTS loss accuracy optim trajectory)
if(CLH_WITH_IO)
  list(APPEND CLH_TRAIN_TESTS optim_io) # saves and loads files
endif()
foreach(t ${CLH_TRAIN_TESTS})
  clh_add_test(test_train_${t} test_train_${t}.c refdata.c)
endforeach()
