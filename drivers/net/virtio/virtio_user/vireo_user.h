/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The virtio-user transport: a virtio-net device emulated in front of a
 * vhost-user backend.  The rings live in our memory; the backend gets
 * them with the vhost-user protocol when the driver sets DRIVER_OK.
 * The device configuration (MAC, link status, queue pairs, MTU) and the
 * control queue are emulated here, as the backend has neither.
 */

#ifndef VIREO_USER_H
#define VIREO_USER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vireo_dev.h"
#include "vring_device.h"
#include "vhost_user.h"
#include "vireo_user_devargs.h"

/* Ring indexes: queue pairs, then the control queue after the last one. */
#define VIREO_USER_MAX_QUEUES (2 * VIREO_USER_MAX_QUEUE_PAIRS + 1)

/* How often the connection is watched (connect, accept, hang-up). */
#define VIREO_USER_WATCH_US 100000
/* After handshakes that fail in a row, the watch slows down: at most
 * VIREO_USER_WATCH_US << VIREO_USER_BACKOFF_MAX (3.2 s). */
#define VIREO_USER_BACKOFF_MAX 5

struct vireo_user_queue {
	struct vireo_queue *q;		/* registered by queue_setup */
	int kick_fd;			/* eventfd: we notify the backend */
	int call_fd;			/* eventfd: the backend interrupts us */
	bool in_backend;		/* the backend has this ring now */
	bool enabled;			/* SET_VRING_ENABLE 1 sent */
};

struct vireo_user {
	struct vireo_user_devargs devargs;
	struct vireo_vhost_user conn;
	struct rte_eth_dev *eth_dev;
	/* Serialises the socket between the app's control calls and the
	 * watcher; recursive because a reconnect runs the start sequence. */
	pthread_mutex_t lock;
	uint8_t status;			/* emulated device status */
	bool connected;
	bool watching;			/* the alarm is armed */
	bool closing;
	bool mem_event_registered;
	bool mem_stale;			/* memory changed, table not sent yet */
	uint8_t backoff;		/* failed handshakes in a row, capped */
	uint32_t failed_handshakes;	/* in a row, for the log */
	uint64_t backend_features;	/* offered by the backend */
	uint64_t protocol_features;	/* negotiated with the backend */
	uint64_t driver_features;	/* accepted by the driver */
	uint16_t enabled_pairs;		/* queue pairs the cvq enabled */
	struct vireo_net_config config;
	struct vireo_user_queue queues[VIREO_USER_MAX_QUEUES];
	struct vireo_vq_dev cvq_dev;	/* device role of the control queue */
	bool cvq_dev_ready;
};

extern const struct vireo_transport_ops vireo_user_ops;

/* vireo_user_cvq.c: run the commands queued on the control queue. */
int vireo_user_ctrl_handle(struct vireo_dev *dev, struct vireo_queue *cvq);
/* vireo_user_ethdev.c: enable or disable queue pairs [from, to). */
int vireo_user_enable_pairs(struct vireo_user *vu, uint16_t pairs);

#endif /* VIREO_USER_H */
