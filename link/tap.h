/* ustack — a Linux TAP device as a link: Ethernet frames (see tun.h). */
#ifndef USTK_LINK_TAP_H
#define USTK_LINK_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tun.h"

/* Open (or create) the TAP device `name`, bringing it up when `up` is set
 * and it is down. Errors as ustk_tundev_open(). */
int ustk_tap_open(ustk_link **out, const char *name, bool up, char *why,
                  size_t whylen);

/* The MAC address Linux uses on its side of the device (what the kernel
 * puts in the frames it sends). Returns 0 or a negated errno. ustack must
 * use a different one: see ustk_tap_random_mac(). */
int ustk_tap_linux_mac(const ustk_link *l, uint8_t mac[6]);

/* A random locally administered unicast MAC (02:xx:xx:xx:xx:xx with the
 * local bit set and the group bit clear), from getrandom(). Returns 0 or a
 * negated errno. */
int ustk_tap_random_mac(uint8_t mac[6]);

#endif
