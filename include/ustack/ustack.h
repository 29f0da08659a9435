/* ustack — a TCP/IP stack in user space. This header includes the whole
 * public API of the core library. */
#ifndef USTACK_USTACK_H
#define USTACK_USTACK_H

#include "config.h"
#include "drop.h"
#include "error.h"
#include "socket.h"
#include "stack.h"
#include "trace.h"

#endif
