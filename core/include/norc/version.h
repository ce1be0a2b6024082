/*
 * norc/version.h - release and plugin-ABI version numbers of the Norc SDK.
 *
 * Installed with the SDK. A plugin is compiled against these numbers; the loader accepts a
 * plugin whose ABI major equals the core's and whose ABI minor is not newer than the core's
 * (docs/ABI.md states the policy). Self-contained: includes nothing.
 */
#ifndef NORC_VERSION_H
#define NORC_VERSION_H

#define NORC_VERSION_MAJOR 0
#define NORC_VERSION_MINOR 1
#define NORC_VERSION_PATCH 0
#define NORC_VERSION_STRING "0.1.0"

/* Plugin ABI. Minor bumps only append (fields, host-API entries, ops); a major bump means
 * every plugin must be rebuilt. */
#define NORC_ABI_MAJOR 1
#define NORC_ABI_MINOR 4

#endif
