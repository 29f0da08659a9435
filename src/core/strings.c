/* Names and texts for the public enumerations, each from its one list. */
#include "ustack/ustack.h"

const char *ustk_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define X(name, num, text)                                                    \
    case USTK_##name:                                                         \
        return text;
        USTK_ERRNO_MAP(X)
#undef X
    default:
        return "unknown error";
    }
}

const char *ustk_errname(int err)
{
    switch (err) {
    case 0:
        return "OK";
#define X(name, num, text)                                                    \
    case USTK_##name:                                                         \
        return #name;
        USTK_ERRNO_MAP(X)
#undef X
    default:
        return "E?";
    }
}

static const char *const drop_text[] = {
#define X(name, text) text,
    USTK_DROP_MAP(X, X)
#undef X
};

static const char *const drop_names[] = {
#define X(name, text) #name,
    USTK_DROP_MAP(X, X)
#undef X
};

static const unsigned char drop_benign[] = {
#define X(name, text) 0,
#define B(name, text) 1,
    USTK_DROP_MAP(X, B)
#undef B
#undef X
};

const char *ustk_drop_str(int reason)
{
    if (reason < 0 || reason >= USTK_DROP__COUNT)
        return "unknown drop reason";
    return drop_text[reason];
}

int ustk_drop_benign(int reason)
{
    return reason >= 0 && reason < USTK_DROP__COUNT && drop_benign[reason];
}

const char *ustk_drop_name(int reason)
{
    if (reason < 0 || reason >= USTK_DROP__COUNT)
        return "?";
    return drop_names[reason];
}

static const char *const state_names[] = {
#define X(name, text) text,
    USTK_TCP_STATE_MAP(X)
#undef X
};

const char *ustk_tcp_state_name(int state)
{
    if (state < 0 || state >= USTK_TCP__STATE_COUNT)
        return "?";
    return state_names[state];
}
