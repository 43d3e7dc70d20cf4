/* clheads — output heads for continual learning, in C11.
 * The umbrella header: include this one. */
#ifndef CLHEADS_H
#define CLHEADS_H

#include "clheads/version.h"
#include "clheads/allocator.h"
#include "clheads/status.h"
#include "clheads/heads.h"
#include "clheads/linear.h"
#include "clheads/loss.h"
#include "clheads/optim.h"
#include "clheads/safetensors.h"
#include "clheads/checkpoint.h"
#include "clheads/atomic_file.h"
#include "clheads/rng.h"
#include "clheads/number.h"
#include "clheads/methods.h"
#include "clheads/analytic.h"
#include "clheads/reduce.h"

#endif
