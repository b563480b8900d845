/* Stage 0 of the `apus` executable: runs before the Swift runtime starts.
 * Only this executable links it (not the tests or the fuzzer). */
#include "apus_entry.h"
#include "apus_shim.h"

/* The first and last functions of the hot block (tools/apus.order lists
 * them first and last): the pages between stay under fault-around
 * (CApusShim/faultaround.c). Distinct bodies, or --icf=all folds them. */
__attribute__((used, noinline, section(".text.apus_hot_text_begin"))) int apus_hot_text_begin(void)
{
    return 0x68;
}
__attribute__((used, noinline, section(".text.apus_hot_text_end"))) int apus_hot_text_end(void)
{
    return 0x65;
}

__attribute__((constructor(101))) static void apus_stage0(int argc, char **argv, char **envp)
{
    (void)envp;
    /* Before anything is opened: a caller's closed stdio must not be
     * filled by a descriptor of apus's own that a child then inherits as
     * its stdio (a host directory, a namespace: CVE-2024-21626's class). */
    apus_stdio_ensure();
    apus_seal_early(argc, argv);
    /* Only where processes are made: there RSS is largest (issue #21) and
     * the extra faults cost ~2 % of the time; for `state` they would cost
     * 10 % to save memory nobody keeps for long. */
    if (apus_names_sealed_command(argc, argv))
        apus_fault_around_off();
}
