/* Internal: test hooks of the safetensors writer. */
#ifndef CLH_INTERNAL_SAFETENSORS_H
#define CLH_INTERNAL_SAFETENSORS_H

/* The steps of an atomic save, in order. */
typedef enum clh_save_step {
    CLH_SAVE_STEP_NONE = 0,
    CLH_SAVE_STEP_OPEN,    /* creating the temporary file */
    CLH_SAVE_STEP_WRITE,   /* writing it (fails after half the bytes) */
    CLH_SAVE_STEP_FLUSH,   /* fflush */
    CLH_SAVE_STEP_FSYNC,   /* fsync of the temporary file */
    CLH_SAVE_STEP_CLOSE,   /* fclose */
    CLH_SAVE_STEP_RENAME,  /* rename over the target */
    CLH_SAVE_STEP_DIRSYNC, /* fsync of the directory (after the rename) */
    CLH_SAVE_STEP_COUNT
} clh_save_step;

/* Test hook: the next save fails at `step` as if the system call had failed
 * with EIO (then the hook turns itself off). CLH_SAVE_STEP_NONE turns it off.
 * Not thread-safe; for tests only. */
void clh_test_fail_save_at(clh_save_step step);

#endif
