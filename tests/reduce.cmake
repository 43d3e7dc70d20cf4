# The reduction interface (issue 12): reducer checks, sums of vectors and of
# the heads' gradient, and the analytic statistics summed over participants
# (threads of one process standing in for the processes of an MPI run).
clh_add_test(test_reduce test_reduce.c refdata.c)
target_link_libraries(test_reduce PRIVATE Threads::Threads)
target_include_directories(test_reduce PRIVATE ${PROJECT_SOURCE_DIR}/src/analytic)
