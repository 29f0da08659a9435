/* Keeps the test-support library non-empty before any helper exists. */
typedef int ustk_testsupport_nonempty;
