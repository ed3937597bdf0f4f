/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_kvargs.h>

#include "../vireo_log.h"
#include "vireo_user_devargs.h"

struct devarg_ctx {
	const char *dev_name;
	struct vireo_user_devargs *out;
};

typedef int (*devarg_handler)(const struct devarg_ctx *ctx,
			      const char *key, const char *value);

static int
parse_uint(const char *value, uint64_t min, uint64_t max, uint64_t *result)
{
	char *end;
	unsigned long long v;

	if (value == NULL || *value == '\0' || *value == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(value, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*result = v;
	return 0;
}

static int
reject(const struct devarg_ctx *ctx, const char *key, const char *value,
       const char *accepted)
{
	VIREO_INIT_LOG(ERR, "%s: invalid devarg %s=%s: accepted values: %s",
		       ctx->dev_name, key, value ? value : "(none)", accepted);
	return -EINVAL;
}

static int
handle_path(const struct devarg_ctx *ctx, const char *key, const char *value)
{
	if (value == NULL || *value == '\0' ||
	    strlen(value) >= sizeof(ctx->out->path))
		return reject(ctx, key, value, "a UNIX socket path");
	strcpy(ctx->out->path, value);
	return 0;
}

static int
handle_bool(const struct devarg_ctx *ctx, const char *key, const char *value,
	    bool *field)
{
	uint64_t v;

	if (parse_uint(value, 0, 1, &v) != 0)
		return reject(ctx, key, value, "0 or 1");
	*field = v != 0;
	return 0;
}

/* One handler per boolean key, each writing its own field. */
#define BOOL_HANDLER(fld) \
static int \
handle_ ## fld(const struct devarg_ctx *ctx, const char *key, \
	       const char *value) \
{ \
	return handle_bool(ctx, key, value, &ctx->out->fld); \
}

BOOL_HANDLER(packed_vq)
BOOL_HANDLER(mrg_rxbuf)
BOOL_HANDLER(in_order)
BOOL_HANDLER(vectorized)
BOOL_HANDLER(cq)
BOOL_HANDLER(server)

static int
handle_queues(const struct devarg_ctx *ctx, const char *key, const char *value)
{
	uint64_t v;

	if (parse_uint(value, 1, VIREO_USER_MAX_QUEUE_PAIRS, &v) != 0)
		return reject(ctx, key, value,
			      "an integer from 1 to " RTE_STR(VIREO_USER_MAX_QUEUE_PAIRS));
	ctx->out->queue_pairs = v;
	return 0;
}

static int
handle_queue_size(const struct devarg_ctx *ctx, const char *key,
		  const char *value)
{
	uint64_t v;

	/* The layout check (power of two for split) comes after all keys. */
	if (parse_uint(value, 1, VIREO_USER_MAX_QUEUE_SIZE, &v) != 0)
		return reject(ctx, key, value,
			      "1 to 32768 with packed_vq=1, a power of two up to 32768 with packed_vq=0");
	ctx->out->queue_size = v;
	return 0;
}

static int
handle_mac(const struct devarg_ctx *ctx, const char *key, const char *value)
{
	unsigned int b[RTE_ETHER_ADDR_LEN];
	char tail;
	int i;

	if (value == NULL ||
	    sscanf(value, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
		   &b[3], &b[4], &b[5], &tail) != RTE_ETHER_ADDR_LEN ||
	    strlen(value) != 17)
		return reject(ctx, key, value, "six hex bytes, xx:xx:xx:xx:xx:xx");
	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		ctx->out->mac.addr_bytes[i] = b[i];
	if (rte_is_multicast_ether_addr(&ctx->out->mac))
		return reject(ctx, key, value, "a unicast address (low bit of the first byte clear)");
	ctx->out->mac_set = true;
	return 0;
}

static int
handle_speed(const struct devarg_ctx *ctx, const char *key, const char *value)
{
	uint64_t v;

	if (parse_uint(value, 1, 400000, &v) != 0)
		return reject(ctx, key, value, "link speed in Mbps, 1 to 400000");
	ctx->out->speed = v;
	return 0;
}

static int
handle_mtu(const struct devarg_ctx *ctx, const char *key, const char *value)
{
	uint64_t v;

	if (parse_uint(value, RTE_ETHER_MIN_MTU, 65535, &v) != 0)
		return reject(ctx, key, value, "68 to 65535");
	ctx->out->mtu = v;
	return 0;
}

static const struct {
	const char *key;
	devarg_handler handler;
} devarg_table[] = {
	{ "path", handle_path },
	{ "queues", handle_queues },
	{ "queue_size", handle_queue_size },
	{ "packed_vq", handle_packed_vq },
	{ "mrg_rxbuf", handle_mrg_rxbuf },
	{ "in_order", handle_in_order },
	{ "vectorized", handle_vectorized },
	{ "mac", handle_mac },
	{ "cq", handle_cq },
	{ "server", handle_server },
	{ "speed", handle_speed },
	{ "mtu", handle_mtu },
};

static void
accepted_keys(char *buf, size_t len)
{
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < RTE_DIM(devarg_table) && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				devarg_table[i].key);
}

int
vireo_user_devargs_parse(const char *name, const char *args,
			 struct vireo_user_devargs *out)
{
	struct devarg_ctx ctx = { .dev_name = name, .out = out };
	struct rte_kvargs *kvlist;
	char keys[256];
	unsigned int i, k;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->queue_pairs = 1;
	out->queue_size = 256;
	out->packed_vq = true;
	out->mrg_rxbuf = true;
	out->in_order = true;

	accepted_keys(keys, sizeof(keys));
	kvlist = rte_kvargs_parse(args ? args : "", NULL);
	if (kvlist == NULL) {
		VIREO_INIT_LOG(ERR, "%s: cannot parse devargs \"%s\": expected key=value pairs separated by commas; keys: %s",
			       name, args, keys);
		return -EINVAL;
	}

	/* Every key must be known; the message names the stranger. */
	for (k = 0; k < kvlist->count; k++) {
		const struct rte_kvargs_pair *pair = &kvlist->pairs[k];

		for (i = 0; i < RTE_DIM(devarg_table); i++)
			if (strcmp(pair->key, devarg_table[i].key) == 0)
				break;
		if (i == RTE_DIM(devarg_table)) {
			VIREO_INIT_LOG(ERR, "%s: unknown devarg \"%s\": accepted keys: %s",
				       name, pair->key, keys);
			ret = -EINVAL;
			goto out;
		}
		ret = devarg_table[i].handler(&ctx, pair->key, pair->value);
		if (ret != 0)
			goto out;
	}

	if (out->path[0] == '\0') {
		VIREO_INIT_LOG(ERR, "%s: devarg \"path\" is required: the vhost-user socket path",
			       name);
		ret = -EINVAL;
		goto out;
	}
	if (!out->packed_vq && !rte_is_power_of_2(out->queue_size)) {
		VIREO_INIT_LOG(ERR, "%s: invalid devarg queue_size=%u: the split layout (packed_vq=0) takes a power of two up to 32768",
			       name, out->queue_size);
		ret = -EINVAL;
		goto out;
	}
	/* More than one queue pair needs the control queue (VIRTIO_NET_F_MQ). */
	if (out->queue_pairs > 1)
		out->cq = true;
out:
	rte_kvargs_free(kvlist);
	return ret;
}
