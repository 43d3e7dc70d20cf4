/* clheads — output heads for continual learning, in C11.
 * The umbrella header: include this one. */
#ifndef CLHEADS_H
#define CLHEADS_H

#include "clheads/status.h"
#include "clheads/heads.h"
#include "clheads/linear.h"
#include "clheads/loss.h"
#include "clheads/optim.h"
#include "clheads/safetensors.h"
#include "clheads/checkpoint.h"
#include "clheads/analytic.h"

#define CLHEADS_VERSION_MAJOR 0
#define CLHEADS_VERSION_MINOR 1
#define CLHEADS_VERSION_PATCH 0
#define CLHEADS_VERSION_STRING "0.1.0"

#endif
