# Training tests (issue 3): cross-entropy and accuracy, optimizers against
# torch.optim trajectories, state growth, freezing, optimizer state save/load.
# Reference data: tests/data/train/ (regenerate with /usr/bin/python3 scripts/gen_train_reference.py).
set(CLH_TRAIN_TESTS loss accuracy optim trajectory optim_io)
foreach(t ${CLH_TRAIN_TESTS})
  clh_add_test(test_train_${t} test_train_${t}.c refdata.c)
endforeach()
