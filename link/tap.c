/* ustack — a Linux TAP device as a link (the driver is in tun.c). */
#include "tap.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

int ustk_tap_open(ustk_link **out, const char *name, bool up, char *why,
                  size_t whylen)
{
    ustk_tundev_opts o = { .name = name, .kind = USTK_LINK_ETHERNET, .up = up };

    return ustk_tundev_open(out, &o, why, whylen);
}

int ustk_tap_linux_mac(const ustk_link *l, uint8_t mac[6])
{
    const char *name = ustk_tundev_name(l);
    struct ifreq ifr;
    int sk, rc = 0;

    if (!name || l->kind != USTK_LINK_ETHERNET)
        return -EINVAL;
    sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sk < 0)
        return -errno;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, strlen(name) + 1);
    if (ioctl(sk, SIOCGIFHWADDR, &ifr) < 0)
        rc = -errno;
    else
        memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    close(sk);
    return rc;
}

int ustk_tap_random_mac(uint8_t mac[6])
{
    ssize_t n;

    do
        n = getrandom(mac, 6, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n != 6)
        return -EIO;
    /* IEEE 802: bit 1 of the first octet marks a locally administered
     * address, bit 0 a group address. */
    mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
    return 0;
}
