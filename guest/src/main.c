/* Placeholder entry point; the agent is being written (see docs/agent-protocol.md). */
#include <stdio.h>
int main(void) { fputs("banger-init: not built yet\n", stderr); return 1; }
