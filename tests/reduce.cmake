# The reduction interface (issue 12): reducer checks, sums of vectors and of
# the heads' gradient, and the analytic statistics summed over participants
# (threads of one process standing in for the processes of an MPI run).
clh_add_test(test_reduce train/test_reduce.c refdata.c)
