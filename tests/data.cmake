# Tests of the data sets of `clheads run` (cli/dataset_idx.c, dataset_pad.c):
# the idx parser on small raw and gzip files the test writes, --pad32, and short
# runs on a tiny idx directory. Skipped when the CLI is not built.
if(TARGET clheads_cli)
  clh_add_cli_test(test_data_idx cli/test_data_idx.c)
endif()
