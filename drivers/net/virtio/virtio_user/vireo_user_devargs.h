/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

#ifndef VIREO_USER_DEVARGS_H
#define VIREO_USER_DEVARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <limits.h>

#include <rte_ether.h>

/* Most queue pairs a net_vireo_user port may ask for. */
#define VIREO_USER_MAX_QUEUE_PAIRS 128
#define VIREO_USER_MAX_QUEUE_SIZE 32768

/*
 * Devargs of net_vireo_user: the same keys, meanings and defaults as
 * DPDK's net_virtio_user, except packed_vq which defaults to 1 (packed
 * whenever the backend offers it).
 */
struct vireo_user_devargs {
	char path[PATH_MAX];
	uint32_t queue_pairs;
	uint32_t queue_size;
	bool packed_vq;
	bool mrg_rxbuf;
	bool in_order;
	bool vectorized;
	bool cq;
	bool server;
	bool mac_set;
	struct rte_ether_addr mac;
	uint32_t speed;		/* Mbps; 0 = unknown */
	uint32_t mtu;		/* 0 = not set */
};

/* The string given to RTE_PMD_REGISTER_PARAM_STRING. */
#define VIREO_USER_PARAM_STRING \
	"path=<path> " \
	"queues=<1-128> " \
	"queue_size=<1-32768> " \
	"packed_vq=<0|1> " \
	"mrg_rxbuf=<0|1> " \
	"in_order=<0|1> " \
	"vectorized=<0|1> " \
	"mac=<mac addr> " \
	"cq=<0|1> " \
	"server=<0|1> " \
	"speed=<int> " \
	"mtu=<int>"

/*
 * Parse and check @args.  On error logs one line naming the key and the
 * accepted values, and returns -EINVAL; @out is then unspecified.
 */
int vireo_user_devargs_parse(const char *name, const char *args,
			     struct vireo_user_devargs *out);

#endif /* VIREO_USER_DEVARGS_H */
