/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memory.h>

#include "vhost_user_mem.h"

#define VU_MEM_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vireo_logtype_user, \
		"vireo_user: " fmt "\n", ## __VA_ARGS__)

struct mem_walk_state {
	struct vireo_vhost_user_mem_table *table;
	uint32_t regions_needed;	/* counts on past the limit for logs */
	int error;
};

/*
 * Called once per allocated segment.  Not per virtually contiguous run:
 * without --single-file-segments every hugepage is a file of its own,
 * and a run of neighbouring pages spans many files.
 */
static int
add_memory_chunk(const struct rte_memseg_list *msl,
		const struct rte_memseg *ms, void *arg)
{
	struct mem_walk_state *state = arg;
	struct vireo_vhost_user_mem_table *table = state->table;
	struct vireo_vhost_user_mem_region *last;
	uint64_t start = ms->addr_64;
	size_t len = ms->len;
	size_t offset;
	int fd;

	/* Memory the application registered itself has no EAL fd. */
	if (msl->external) {
		VU_MEM_LOG(DEBUG, "skipping external memory at 0x%" PRIx64,
			start);
		return 0;
	}

	fd = rte_memseg_get_fd_thread_unsafe(ms);
	if (fd < 0) {
		VU_MEM_LOG(ERR, "memory at 0x%" PRIx64 " has no fd (%s):"
			" it cannot be shared with a vhost-user backend",
			start, rte_strerror(rte_errno));
		state->error = -(rte_errno != 0 ? rte_errno : ENODEV);
		return -1;
	}
	if (rte_memseg_get_fd_offset_thread_unsafe(ms, &offset) < 0) {
		VU_MEM_LOG(ERR, "no fd offset for memory at 0x%" PRIx64 " (%s)",
			start, rte_strerror(rte_errno));
		state->error = -(rte_errno != 0 ? rte_errno : ENODEV);
		return -1;
	}

	/*
	 * Extend the previous region when this segment continues it both
	 * in the address space and in the file; segments are walked in
	 * address order within a list, so neighbours arrive in turn.
	 */
	if (table->nregions > 0 &&
	    state->regions_needed == table->nregions) {
		last = &table->regions[table->nregions - 1];
		if (last->fd == fd &&
		    last->userspace_addr + last->memory_size == start &&
		    last->mmap_offset + last->memory_size == offset) {
			last->memory_size += len;
			return 0;
		}
	}

	state->regions_needed++;
	if (table->nregions == VIREO_VHOST_USER_MAX_REGIONS)
		return 0;	/* keep counting for the error message */

	last = &table->regions[table->nregions++];
	last->guest_phys_addr = start;
	last->userspace_addr = start;
	last->memory_size = len;
	last->mmap_offset = offset;
	last->fd = fd;
	return 0;
}

static int
finish_table(struct mem_walk_state *state, int walk_ret)
{
	if (walk_ret < 0)
		return state->error != 0 ? state->error : -EINVAL;
	if (state->regions_needed > VIREO_VHOST_USER_MAX_REGIONS) {
		VU_MEM_LOG(ERR, "EAL memory needs %u regions, vhost-user"
			" carries at most %u: use --single-file-segments"
			" (or --in-memory / fewer, larger hugepages)",
			state->regions_needed, VIREO_VHOST_USER_MAX_REGIONS);
		return -VIREO_VHOST_USER_E_TOO_MANY_REGIONS;
	}
	if (state->table->nregions == 0) {
		VU_MEM_LOG(ERR, "no shareable EAL memory found");
		return -ENOMEM;
	}
	return 0;
}

int
vireo_vhost_user_mem_table_build(struct vireo_vhost_user_mem_table *table)
{
	struct mem_walk_state state = { .table = table };
	int ret;

	if (table == NULL)
		return -EINVAL;
	memset(table, 0, sizeof(*table));
	/* This walk holds the memory lock around every callback. */
	ret = rte_memseg_walk(add_memory_chunk, &state);
	return finish_table(&state, ret);
}

int
vireo_vhost_user_mem_table_build_locked(
		struct vireo_vhost_user_mem_table *table)
{
	struct mem_walk_state state = { .table = table };
	int ret;

	if (table == NULL)
		return -EINVAL;
	memset(table, 0, sizeof(*table));
	ret = rte_memseg_walk_thread_unsafe(add_memory_chunk, &state);
	return finish_table(&state, ret);
}

int
vireo_vhost_user_mem_event_register(const char *name,
		rte_mem_event_callback_t callback, void *arg)
{
	if (name == NULL || callback == NULL)
		return -EINVAL;
	if (rte_mem_event_callback_register(name, callback, arg) == 0)
		return 0;
	return -(rte_errno != 0 ? rte_errno : EINVAL);
}

int
vireo_vhost_user_mem_event_unregister(const char *name, void *arg)
{
	if (name == NULL)
		return -EINVAL;
	if (rte_mem_event_callback_unregister(name, arg) == 0)
		return 0;
	return -(rte_errno != 0 ? rte_errno : EINVAL);
}
