/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

#ifndef VIREO_VHOST_USER_MEM_H
#define VIREO_VHOST_USER_MEM_H

/*
 * The SET_MEM_TABLE content for a frontend in a DPDK process: every
 * piece of EAL memory the backend may be handed a pointer to, described
 * by the fd EAL keeps for it. Addresses are process virtual addresses,
 * used both as "guest physical" and as frontend user address, so ring
 * and buffer addresses need no translation.
 *
 * EAL must back its memory with files that can be shared: hugepages with
 * --single-file-segments (or --in-memory, memfd backed), or --no-huge
 * (one memfd in DPDK 22.11). One file per page (the default hugepage
 * mode) needs one region per page and quickly exceeds the limit of 8.
 */

#include <rte_memory.h>

#include "vhost_user.h"

/*
 * Build the table, taking EAL's memory lock for the walk. Contiguous
 * memory with one fd and matching offsets becomes one region.
 * 0, or -VIREO_VHOST_USER_E_TOO_MANY_REGIONS, or another negated error.
 */
int vireo_vhost_user_mem_table_build(struct vireo_vhost_user_mem_table *table);

/*
 * Same, for callers that already hold the memory hotplug lock: the
 * memory event callback runs with it held, and taking it again there
 * would deadlock.
 */
int vireo_vhost_user_mem_table_build_locked(
		struct vireo_vhost_user_mem_table *table);

/*
 * Be told when EAL adds or frees memory, so the PMD can send a new
 * SET_MEM_TABLE (built with the _locked variant inside the callback, or
 * later from another context with the plain one). name must be unique
 * per device. Returns 0, or -ENOTSUP when EAL runs in legacy memory mode
 * (--no-huge or --legacy-mem): memory never changes there, so no update
 * is ever needed. Other failures are negated errno values.
 */
int vireo_vhost_user_mem_event_register(const char *name,
		rte_mem_event_callback_t callback, void *arg);

/* Undo the registration; -ENOTSUP in legacy mode, like register. */
int vireo_vhost_user_mem_event_unregister(const char *name, void *arg);

#endif /* VIREO_VHOST_USER_MEM_H */
