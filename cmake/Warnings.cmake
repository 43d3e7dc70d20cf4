# Warnings on for every target of ours; errors with CLH_WERROR (CI turns it on).
function(clh_enable_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wvla -Wformat=2 -Wno-unused-parameter)
  if(CLH_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
