/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * net_vireo_user: the vdev, and the virtio-user transport behind it.
 *
 * The emulated device follows the virtio status machine; at DRIVER_OK it
 * hands the rings to the backend (memory table, then per ring CALL, NUM,
 * BASE, ADDR, KICK), at reset it takes them back with GET_VRING_BASE.
 * A watcher on the EAL alarm connects (client) or accepts (server=1),
 * notices hang-ups, and on every (re)connection renegotiates and hands
 * the rings back from where the old backend left them, so traffic
 * resumes without the application doing anything.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_alarm.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <bus_vdev_driver.h>

#include "../vireo_log.h"
#include "../vireo_rxtx.h"
#include "vireo_user.h"
#include "vhost_user_mem.h"

/* Device features emulated here rather than asked of the backend. */
#define VIREO_USER_EMULATED_FEATURES ( \
	VIREO_BIT(VIREO_NET_F_MAC) | \
	VIREO_BIT(VIREO_NET_F_STATUS) | \
	VIREO_BIT(VIREO_NET_F_CTRL_VQ) | \
	VIREO_BIT(VIREO_NET_F_CTRL_RX) | \
	VIREO_BIT(VIREO_NET_F_CTRL_VLAN) | \
	VIREO_BIT(VIREO_NET_F_CTRL_MAC_ADDR) | \
	VIREO_BIT(VIREO_NET_F_GUEST_ANNOUNCE) | \
	VIREO_BIT(VIREO_NET_F_MTU))

/*
 * What a vhost-user backend is assumed to offer before one is connected
 * (server mode, or a client waiting for its backend), so the port can be
 * configured; a backend that turns out to lack one of the ring features
 * chosen from this is refused with a message.
 */
#define VIREO_USER_ASSUMED_FEATURES ( \
	VIREO_BIT(VIREO_F_VERSION_1) | \
	VIREO_BIT(VIREO_F_RING_PACKED) | \
	VIREO_BIT(VIREO_F_IN_ORDER) | \
	VIREO_BIT(VIREO_F_ANY_LAYOUT) | \
	VIREO_BIT(VIREO_NET_F_MRG_RXBUF) | \
	VIREO_BIT(VIREO_NET_F_MQ))

#define VIREO_USER_PROTOCOL_WANTED ( \
	(UINT64_C(1) << VIREO_VHOST_USER_PROTOCOL_F_MQ) | \
	(UINT64_C(1) << VIREO_VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
	(UINT64_C(1) << VIREO_VHOST_USER_PROTOCOL_F_NET_MTU) | \
	(UINT64_C(1) << VIREO_VHOST_USER_PROTOCOL_F_STATUS))

static struct vireo_user *
user_of(struct vireo_dev *dev)
{
	return dev->transport;
}

static uint16_t
vireo_user_cvq_index(const struct vireo_user *vu)
{
	return 2 * vu->devargs.queue_pairs;
}

static bool
vireo_user_has_protocol(const struct vireo_user *vu, unsigned int bit)
{
	return (vu->protocol_features & (UINT64_C(1) << bit)) != 0;
}

/* ---- talking to the backend (lock held) ---- */

/* Features of the driver that the backend itself must implement. */
static uint64_t
vireo_user_backend_share(const struct vireo_user *vu, uint64_t features)
{
	uint64_t share = features & ~VIREO_USER_EMULATED_FEATURES;

	if (vu->backend_features &
	    VIREO_BIT(VIREO_VHOST_USER_F_PROTOCOL_FEATURES))
		share |= VIREO_BIT(VIREO_VHOST_USER_F_PROTOCOL_FEATURES);
	return share;
}

static int
vireo_user_send_features(struct vireo_user *vu)
{
	uint64_t share = vireo_user_backend_share(vu, vu->driver_features);
	uint64_t missing = share & ~vu->backend_features;
	char words[256];
	int ret;

	if (missing != 0) {
		vireo_virtio_net_feature_names(missing, words, sizeof(words));
		VIREO_USER_LOG(ERR, "%s: backend lacks features the port was configured with: %s; reconfigure the port",
			       vu->devargs.path, words);
		return -ENOTSUP;
	}
	ret = vireo_vhost_user_set_features(&vu->conn, share);
	if (ret != 0)
		VIREO_USER_LOG(ERR, "%s: SET_FEATURES failed: %s",
			       vu->devargs.path, vireo_vhost_user_strerror(ret));
	return ret;
}

static int
vireo_user_send_mem_table(struct vireo_user *vu, bool locked)
{
	struct vireo_vhost_user_mem_table table;
	int ret;

	/* Cleared first: a change while the table is built sets it again. */
	__atomic_store_n(&vu->mem_stale, false, __ATOMIC_SEQ_CST);
	ret = locked ? vireo_vhost_user_mem_table_build_locked(&table) :
		vireo_vhost_user_mem_table_build(&table);
	if (ret == 0)
		ret = vireo_vhost_user_set_mem_table(&vu->conn, &table);
	if (ret != 0)
		VIREO_USER_LOG(ERR, "%s: memory table not sent: %s",
			       vu->devargs.path, vireo_vhost_user_strerror(ret));
	return ret;
}

static int
vireo_user_ring_to_backend(struct vireo_user *vu, uint16_t index)
{
	struct vireo_user_queue *uq = &vu->queues[index];
	struct vireo_queue *q = uq->q;
	uint64_t desc, driver, device;
	uint32_t base;
	int ret;

	vireo_vq_addresses(&q->vq, &desc, &driver, &device);
	base = vireo_vq_resume_base(&q->vq);
	/* A new device, whose used entries start at base: an Rx frame the
	 * old one began and had not finished by then never is (the data
	 * path drops it there instead of completing it with the new
	 * device's buffers).  Release: the position is in place for whoever
	 * acquires the new generation. */
	__atomic_store_n(&q->handover_pos, (uint16_t)base, __ATOMIC_RELAXED);
	__atomic_fetch_add(&q->device_gen, 1, __ATOMIC_RELEASE);
	ret = vireo_vhost_user_set_vring_call(&vu->conn, index, uq->call_fd);
	if (ret == 0)
		ret = vireo_vhost_user_set_vring(&vu->conn, index, q->size,
						 desc, driver, device, 0, base);
	if (ret == 0)
		ret = vireo_vhost_user_set_vring_kick(&vu->conn, index,
						      uq->kick_fd);
	if (ret != 0) {
		VIREO_USER_LOG(ERR, "%s: ring %u not handed to the backend: %s",
			       vu->devargs.path, index,
			       vireo_vhost_user_strerror(ret));
		return ret;
	}
	uq->in_backend = true;
	return 0;
}

/* Queue pairs [0, pairs) on, the rest off, as the backend sees them. */
int
vireo_user_enable_pairs(struct vireo_user *vu, uint16_t pairs)
{
	uint16_t index;
	int ret = 0;

	pthread_mutex_lock(&vu->lock);
	vu->enabled_pairs = pairs;
	for (index = 0; index < vireo_user_cvq_index(vu) && vu->connected;
	     index++) {
		struct vireo_user_queue *uq = &vu->queues[index];
		bool on = index / 2 < pairs;

		if (!uq->in_backend || uq->enabled == on)
			continue;
		ret = vireo_vhost_user_set_vring_enable(&vu->conn, index, on);
		if (ret != 0 && ret != -ENOTSUP)
			break;
		ret = 0;
		uq->enabled = on;
	}
	pthread_mutex_unlock(&vu->lock);
	return ret;
}

/* DRIVER_OK with a backend: hand it every ring the driver set up. */
static int
vireo_user_start_backend(struct vireo_user *vu)
{
	uint16_t index;
	int ret;

	ret = vireo_user_send_mem_table(vu, false);
	if (ret != 0)
		return ret;
	if (vu->devargs.mtu && vireo_user_has_protocol(vu,
				VIREO_VHOST_USER_PROTOCOL_F_NET_MTU)) {
		ret = vireo_vhost_user_set_mtu(&vu->conn, vu->devargs.mtu);
		if (ret != 0)
			VIREO_USER_LOG(WARNING, "%s: backend refused MTU %u",
				       vu->devargs.path, vu->devargs.mtu);
	}
	for (index = 0; index < vireo_user_cvq_index(vu); index++) {
		if (vu->queues[index].q == NULL)
			continue;
		ret = vireo_user_ring_to_backend(vu, index);
		if (ret != 0)
			return ret;
	}
	if (vu->enabled_pairs == 0)
		vu->enabled_pairs = 1;
	ret = vireo_user_enable_pairs(vu, vu->enabled_pairs);
	if (ret != 0)
		return ret;
	if (vireo_user_has_protocol(vu, VIREO_VHOST_USER_PROTOCOL_F_STATUS))
		vireo_vhost_user_set_status(&vu->conn, vu->status);
	VIREO_USER_LOG(INFO, "%s: rings handed to the backend", vu->devargs.path);
	return 0;
}

/* Reset: take every ring back (GET_VRING_BASE stops it). */
static void
vireo_user_stop_backend(struct vireo_user *vu)
{
	uint32_t base;
	uint16_t index;

	for (index = 0; index < VIREO_USER_MAX_QUEUES; index++) {
		struct vireo_user_queue *uq = &vu->queues[index];

		if (!uq->in_backend)
			continue;
		if (vu->connected)
			vireo_vhost_user_get_vring_base(&vu->conn, index, &base);
		uq->in_backend = false;
		uq->enabled = false;
	}
	if (vu->connected &&
	    vireo_user_has_protocol(vu, VIREO_VHOST_USER_PROTOCOL_F_STATUS))
		vireo_vhost_user_set_status(&vu->conn, 0);
}

/* A backend answered: learn it, and bring the device back if started. */
static int
vireo_user_on_connect(struct vireo_user *vu)
{
	uint64_t offered, protocol = 0, queues;
	char words[512];
	int ret;

	ret = vireo_vhost_user_set_owner(&vu->conn);
	if (ret == 0)
		ret = vireo_vhost_user_get_features(&vu->conn, &offered);
	if (ret == 0 && (offered &
			 VIREO_BIT(VIREO_VHOST_USER_F_PROTOCOL_FEATURES))) {
		ret = vireo_vhost_user_get_protocol_features(&vu->conn,
							     &protocol);
		protocol &= VIREO_USER_PROTOCOL_WANTED;
		if (ret == 0)
			ret = vireo_vhost_user_set_protocol_features(&vu->conn,
								     protocol);
	}
	if (ret != 0) {
		VIREO_USER_LOG(ERR, "%s: backend handshake failed: %s",
			       vu->devargs.path, vireo_vhost_user_strerror(ret));
		return ret;
	}
	vu->backend_features = offered;
	vu->protocol_features = protocol;
	if (vu->devargs.queue_pairs > 1) {
		if (!vireo_user_has_protocol(vu, VIREO_VHOST_USER_PROTOCOL_F_MQ) ||
		    vireo_vhost_user_get_queue_num(&vu->conn, &queues) != 0 ||
		    queues < vu->devargs.queue_pairs) {
			VIREO_USER_LOG(ERR, "%s: backend cannot serve %u queue pairs",
				       vu->devargs.path, vu->devargs.queue_pairs);
			return -ENOTSUP;
		}
	}
	vireo_virtio_net_feature_names(offered, words, sizeof(words));
	VIREO_USER_LOG(INFO, "%s: backend offers 0x%" PRIx64 ": %s",
		       vu->devargs.path, offered, words);
	vireo_vhost_user_protocol_feature_names(protocol, words, sizeof(words));
	VIREO_USER_LOG(INFO, "%s: protocol features 0x%" PRIx64 ": %s",
		       vu->devargs.path, protocol, words);

	/* A configured device meets a new backend: the ethdev layer does
	 * not negotiate again, so the renegotiation is logged here. */
	if (vu->status & VIREO_STATUS_FEATURES_OK) {
		ret = vireo_user_send_features(vu);
		if (ret != 0)
			return ret;
		vireo_virtio_net_feature_names(vu->driver_features, words,
					       sizeof(words));
		VIREO_USER_LOG(INFO, "%s: features renegotiated 0x%" PRIx64 ": %s",
			       vu->devargs.path, vu->driver_features, words);
	}
	vu->connected = true;
	if (vu->status & VIREO_STATUS_DRIVER_OK) {
		ret = vireo_user_start_backend(vu);
		if (ret != 0) {
			vu->connected = false;
			return ret;
		}
	}
	return 0;
}

static void
vireo_user_on_disconnect(struct vireo_user *vu)
{
	uint16_t index;

	vireo_vhost_user_disconnect(&vu->conn);
	vu->connected = false;
	for (index = 0; index < VIREO_USER_MAX_QUEUES; index++) {
		vu->queues[index].in_backend = false;
		vu->queues[index].enabled = false;
	}
}

/* ---- the watcher ---- */

static void vireo_user_watch(void *arg);

static void
vireo_user_watch_arm(struct vireo_user *vu)
{
	if (rte_eal_alarm_set((uint64_t)VIREO_USER_WATCH_US << vu->backoff,
			      vireo_user_watch, vu) == 0)
		vu->watching = true;
	else
		VIREO_USER_LOG(ERR, "%s: cannot arm the connection watcher",
			       vu->devargs.path);
}

static void
vireo_user_watch(void *arg)
{
	struct vireo_user *vu = arg;
	bool was_connected, now_connected;
	int ret;

	vu->watching = false;
	if (pthread_mutex_trylock(&vu->lock) != 0) {
		vireo_user_watch_arm(vu);
		return;
	}
	if (vu->closing) {
		pthread_mutex_unlock(&vu->lock);
		return;
	}
	was_connected = vu->connected;
	if (!vu->connected) {
		ret = vu->devargs.server ?
			vireo_vhost_user_try_accept(&vu->conn) :
			vireo_vhost_user_try_connect(&vu->conn);
		/* Logged once usable: an app seeing it may start the port. */
		if (ret == 0 && vireo_user_on_connect(vu) == 0) {
			VIREO_USER_LOG(INFO, "%s: backend connected",
				       vu->devargs.path);
			vu->backoff = 0;
			vu->failed_handshakes = 0;
		} else if (ret == 0) {
			/* A backend that accepts and then fails every
			 * handshake would otherwise cost a handshake and its
			 * log lines ten times a second. */
			vu->failed_handshakes++;
			if (vu->backoff < VIREO_USER_BACKOFF_MAX)
				vu->backoff++;
			VIREO_USER_LOG(ERR, "%s: backend dropped (%u failed handshakes in a row); next try in %u ms",
				       vu->devargs.path, vu->failed_handshakes,
				       (VIREO_USER_WATCH_US << vu->backoff) / 1000);
			vireo_user_on_disconnect(vu);
		}
	} else if (__atomic_load_n(&vu->mem_stale, __ATOMIC_SEQ_CST) &&
		   (vu->status & VIREO_STATUS_DRIVER_OK)) {
		vireo_user_send_mem_table(vu, false);
	} else if (vireo_vhost_user_check_peer(&vu->conn) != 0) {
		VIREO_USER_LOG(NOTICE, "%s: backend disconnected; %s",
			       vu->devargs.path, vu->devargs.server ?
			       "waiting for it to connect again" :
			       "reconnecting");
		vireo_user_on_disconnect(vu);
	}
	now_connected = vu->connected;
	pthread_mutex_unlock(&vu->lock);

	if (was_connected != now_connected && vu->eth_dev != NULL)
		vireo_dev_link_changed(vu->eth_dev);
	vireo_user_watch_arm(vu);
}

/* EAL grew or shrank its memory: the backend needs the new table. */
static void
vireo_user_mem_event(enum rte_mem_event type __rte_unused,
		     const void *addr __rte_unused, size_t len __rte_unused,
		     void *arg)
{
	struct vireo_user *vu = arg;

	/* The hotplug lock is held here: never wait for our lock, whose
	 * holder may be waiting for the hotplug lock (ABBA); the watcher
	 * sends the table instead. */
	if (pthread_mutex_trylock(&vu->lock) != 0) {
		__atomic_store_n(&vu->mem_stale, true, __ATOMIC_SEQ_CST);
		VIREO_USER_LOG(NOTICE, "%s: memory changed while busy: memory table follows",
			       vu->devargs.path);
		return;
	}
	if (vu->connected && (vu->status & VIREO_STATUS_DRIVER_OK))
		vireo_user_send_mem_table(vu, true);
	pthread_mutex_unlock(&vu->lock);
}

/* ---- transport operations ---- */

static uint64_t
vireo_user_get_features(struct vireo_dev *dev)
{
	struct vireo_user *vu = user_of(dev);
	uint64_t backend = vu->connected ? vu->backend_features :
		VIREO_USER_ASSUMED_FEATURES;
	uint64_t features = backend & ~VIREO_USER_EMULATED_FEATURES;

	features |= VIREO_BIT(VIREO_NET_F_MAC) | VIREO_BIT(VIREO_NET_F_STATUS);
	if (vu->devargs.cq)
		features |= VIREO_BIT(VIREO_NET_F_CTRL_VQ) |
			VIREO_BIT(VIREO_NET_F_CTRL_RX) |
			VIREO_BIT(VIREO_NET_F_CTRL_VLAN) |
			VIREO_BIT(VIREO_NET_F_CTRL_MAC_ADDR);
	else
		features &= ~VIREO_BIT(VIREO_NET_F_MQ);
	if (vu->devargs.mtu)
		features |= VIREO_BIT(VIREO_NET_F_MTU);
	return features;
}

static int
vireo_user_set_features(struct vireo_dev *dev, uint64_t features)
{
	struct vireo_user *vu = user_of(dev);
	int ret = 0;

	pthread_mutex_lock(&vu->lock);
	vu->driver_features = features;
	if (vu->connected)
		ret = vireo_user_send_features(vu);
	pthread_mutex_unlock(&vu->lock);
	return ret;
}

static uint8_t
vireo_user_get_status(struct vireo_dev *dev)
{
	return user_of(dev)->status;
}

static int
vireo_user_set_status(struct vireo_dev *dev, uint8_t status)
{
	struct vireo_user *vu = user_of(dev);
	int ret = 0;

	pthread_mutex_lock(&vu->lock);
	if (status == 0) {
		vireo_user_stop_backend(vu);
		vu->status = 0;
		vu->enabled_pairs = 0;
	} else {
		vu->status |= status;
		if ((status & VIREO_STATUS_DRIVER_OK) && vu->connected) {
			ret = vireo_user_start_backend(vu);
			if (ret != 0) {
				vu->status &= ~VIREO_STATUS_DRIVER_OK;
				/* The cause is logged; ethdev wants an errno. */
				if (ret < -4095)
					ret = -EIO;
			}
		}
	}
	pthread_mutex_unlock(&vu->lock);
	return ret;
}

static int
vireo_user_read_config(struct vireo_dev *dev, size_t offset, void *buf,
		       size_t len)
{
	struct vireo_user *vu = user_of(dev);

	if (offset + len > sizeof(vu->config))
		return -EINVAL;
	vu->config.status = vu->connected ? VIREO_NET_S_LINK_UP : 0;
	memcpy(buf, (uint8_t *)&vu->config + offset, len);
	return 0;
}

static int
vireo_user_write_config(struct vireo_dev *dev, size_t offset,
			const void *buf, size_t len)
{
	struct vireo_user *vu = user_of(dev);

	/* Only the MAC is writable (legacy-style set, 5.1.4). */
	if (offset + len > sizeof(vu->config.mac))
		return -EINVAL;
	memcpy((uint8_t *)&vu->config + offset, buf, len);
	return 0;
}

static uint16_t
vireo_user_queue_max_size(struct vireo_dev *dev, uint16_t index)
{
	struct vireo_user *vu = user_of(dev);

	if (index > vireo_user_cvq_index(vu))
		return 0;
	return VIREO_USER_MAX_QUEUE_SIZE;
}

static void
vireo_user_notify(struct vireo_queue *q)
{
	uint64_t one = 1;

	/* An eventfd write cannot block for long, and a failed kick
	 * only delays the backend, which polls anyway. */
	if (write(q->kick_fd, &one, sizeof(one)) < 0)
		VIREO_DP_LOG(user, DEBUG, "kick of ring %u failed: %s",
			     q->index, strerror(errno));
}

static void
vireo_user_cvq_notify(struct vireo_queue *q __rte_unused)
{
	/* The control queue is served in vireo_user_ctrl_handle. */
}

static int
vireo_user_queue_setup(struct vireo_dev *dev, struct vireo_queue *q)
{
	struct vireo_user *vu = user_of(dev);
	struct vireo_user_queue *uq;
	int ret = 0;

	if (q->index > vireo_user_cvq_index(vu))
		return -EINVAL;
	pthread_mutex_lock(&vu->lock);
	uq = &vu->queues[q->index];
	uq->q = q;
	if (q->index == vireo_user_cvq_index(vu)) {
		q->notify = vireo_user_cvq_notify;
		ret = vireo_vq_dev_init(&vu->cvq_dev, q->vq.layout, q->size,
					q->vq.options, q->vq.ring_mem, NULL,
					NULL);
		vu->cvq_dev_ready = ret == 0;
		ret = ret == 0 ? 0 : -EINVAL;
		goto out;
	}
	if (uq->kick_fd < 0)
		uq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (uq->call_fd < 0)
		uq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (uq->kick_fd < 0 || uq->call_fd < 0) {
		VIREO_USER_LOG(ERR, "%s: eventfd: %s", vu->devargs.path,
			       strerror(errno));
		ret = -errno;
		goto out;
	}
	q->kick_fd = uq->kick_fd;
	q->notify = vireo_user_notify;
	/* A polling driver wants no interrupts until it asks for them. */
	vireo_vq_disable_cb(&q->vq);
out:
	pthread_mutex_unlock(&vu->lock);
	return ret;
}

static void
vireo_user_queue_release(struct vireo_dev *dev, struct vireo_queue *q)
{
	struct vireo_user *vu = user_of(dev);

	pthread_mutex_lock(&vu->lock);
	if (q->index <= vireo_user_cvq_index(vu) &&
	    vu->queues[q->index].q == q) {
		vu->queues[q->index].q = NULL;
		if (q->index == vireo_user_cvq_index(vu))
			vu->cvq_dev_ready = false;
	}
	pthread_mutex_unlock(&vu->lock);
}

static int
vireo_user_queue_enable(struct vireo_dev *dev, uint16_t index, bool on)
{
	struct vireo_user *vu = user_of(dev);
	int ret = 0;

	pthread_mutex_lock(&vu->lock);
	if (vu->connected && vu->queues[index].in_backend) {
		ret = vireo_vhost_user_set_vring_enable(&vu->conn, index, on);
		if (ret == 0)
			vu->queues[index].enabled = on;
	}
	pthread_mutex_unlock(&vu->lock);
	return ret;
}

static int
vireo_user_queue_intr_fd(struct vireo_dev *dev, uint16_t index)
{
	struct vireo_user *vu = user_of(dev);

	return index < vireo_user_cvq_index(vu) ? vu->queues[index].call_fd : -1;
}

static bool
vireo_user_link_up(struct vireo_dev *dev)
{
	return user_of(dev)->connected;
}

static void
vireo_user_free(struct vireo_user *vu)
{
	uint16_t index;

	vu->closing = true;
	rte_eal_alarm_cancel(vireo_user_watch, vu);
	if (vu->mem_event_registered)
		vireo_vhost_user_mem_event_unregister(vu->eth_dev ?
			vu->eth_dev->data->name : "vireo", vu);
	pthread_mutex_lock(&vu->lock);
	vireo_user_stop_backend(vu);
	vireo_vhost_user_close(&vu->conn);
	vu->connected = false;
	for (index = 0; index < VIREO_USER_MAX_QUEUES; index++) {
		if (vu->queues[index].kick_fd >= 0)
			close(vu->queues[index].kick_fd);
		if (vu->queues[index].call_fd >= 0)
			close(vu->queues[index].call_fd);
	}
	pthread_mutex_unlock(&vu->lock);
	pthread_mutex_destroy(&vu->lock);
	rte_free(vu);
}

static void
vireo_user_close(struct vireo_dev *dev)
{
	struct vireo_user *vu = user_of(dev);

	if (vu != NULL)
		vireo_user_free(vu);
}

const struct vireo_transport_ops vireo_user_ops = {
	.name = "virtio-user",
	/* the device's own state, over vhost-user messages */
	.get_status = vireo_user_get_status,
	.set_status = vireo_user_set_status,
	.get_features = vireo_user_get_features,
	.set_features = vireo_user_set_features,
	.read_config = vireo_user_read_config,
	.write_config = vireo_user_write_config,
	.link_up = vireo_user_link_up,
	/* rings: memory table, addresses, kick and call eventfds */
	.queue_max_size = vireo_user_queue_max_size,
	.queue_setup = vireo_user_queue_setup,
	.queue_enable = vireo_user_queue_enable,
	.queue_intr_fd = vireo_user_queue_intr_fd,
	.queue_release = vireo_user_queue_release,
	/* the control queue, emulated here */
	.ctrl_handle = vireo_user_ctrl_handle,
	.close = vireo_user_close,
};

/* ---- the vdev ---- */

static uint64_t
vireo_user_wanted_features(const struct vireo_user_devargs *da)
{
	return vireo_wanted_features(da->mtu ? VIREO_BIT(VIREO_NET_F_MTU) : 0,
				     da->packed_vq, da->mrg_rxbuf, da->in_order,
				     da->cq);
}

static struct vireo_user *
vireo_user_create(const char *name, const struct vireo_user_devargs *da)
{
	pthread_mutexattr_t attr;
	struct vireo_user *vu;
	uint16_t index;
	int ret;

	vu = rte_zmalloc("vireo_user", sizeof(*vu), RTE_CACHE_LINE_SIZE);
	if (vu == NULL)
		return NULL;
	vu->devargs = *da;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&vu->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	for (index = 0; index < VIREO_USER_MAX_QUEUES; index++) {
		vu->queues[index].kick_fd = -1;
		vu->queues[index].call_fd = -1;
	}
	if (da->mac_set)
		memcpy(vu->config.mac, da->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	else
		rte_eth_random_addr(vu->config.mac);
	vu->config.max_virtqueue_pairs = da->queue_pairs;
	vu->config.mtu = da->mtu;
	vu->config.speed = da->speed;
	vu->config.duplex = 1;

	ret = vireo_vhost_user_init(&vu->conn, da->path, 0);
	if (ret != 0) {
		VIREO_INIT_LOG(ERR, "%s: invalid devarg path=%s: %s", name,
			       da->path, vireo_vhost_user_strerror(ret));
		goto fail;
	}
	if (da->server) {
		ret = vireo_vhost_user_listen(&vu->conn);
		if (ret != 0) {
			VIREO_INIT_LOG(ERR, "%s: cannot listen on path=%s: %s",
				       name, da->path,
				       vireo_vhost_user_strerror(ret));
			goto fail;
		}
		VIREO_USER_LOG(INFO, "%s: server mode: waiting for a backend on %s",
			       name, da->path);
		return vu;
	}
	ret = vireo_vhost_user_try_connect(&vu->conn);
	if (ret == 0) {
		if (vireo_user_on_connect(vu) != 0) {
			VIREO_INIT_LOG(ERR, "%s: backend at %s unusable", name,
				       da->path);
			goto fail;
		}
		VIREO_USER_LOG(INFO, "%s: backend connected", da->path);
	} else {
		VIREO_USER_LOG(NOTICE, "%s: no backend at %s yet (%s): will keep trying",
			       name, da->path, vireo_vhost_user_strerror(ret));
	}
	return vu;
fail:
	vireo_vhost_user_close(&vu->conn);
	pthread_mutex_destroy(&vu->lock);
	rte_free(vu);
	return NULL;
}

static int
vireo_user_probe_secondary(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *eth_dev;

	eth_dev = rte_eth_dev_attach_secondary(rte_vdev_device_name(vdev));
	if (eth_dev == NULL)
		return -EINVAL;
	eth_dev->dev_ops = &vireo_eth_dev_ops_secondary;
	eth_dev->device = &vdev->device;
	vireo_path_attach(eth_dev);
	rte_eth_dev_probing_finish(eth_dev);
	return 0;
}

static int
vireo_user_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct vireo_user_devargs devargs;
	struct rte_eth_dev *eth_dev;
	struct vireo_dev *dev;
	struct vireo_user *vu;
	int ret;

	if (rte_eal_process_type() == RTE_PROC_SECONDARY)
		return vireo_user_probe_secondary(vdev);

	ret = vireo_user_devargs_parse(name, rte_vdev_device_args(vdev),
				       &devargs);
	if (ret != 0)
		return ret;
	vu = vireo_user_create(name, &devargs);
	if (vu == NULL)
		return -EINVAL;

	eth_dev = rte_eth_vdev_allocate(vdev, sizeof(*dev));
	if (eth_dev == NULL) {
		vireo_user_free(vu);
		return -ENOMEM;
	}
	eth_dev->data->mac_addrs = rte_zmalloc("vireo_mac",
			VIREO_MAX_MAC_ADDRS * RTE_ETHER_ADDR_LEN, 0);
	if (eth_dev->data->mac_addrs == NULL) {
		rte_eth_dev_release_port(eth_dev);
		vireo_user_free(vu);
		return -ENOMEM;
	}
	dev = eth_dev->data->dev_private;
	dev->ops = &vireo_user_ops;
	dev->transport = vu;
	dev->use_va = true;
	dev->queue_size = devargs.queue_size;
	dev->speed = devargs.speed;
	dev->mtu = devargs.mtu;
	dev->vectorized_allowed = devargs.vectorized;
	dev->mac_from_devargs = true;
	memcpy(dev->mac.addr_bytes, vu->config.mac, RTE_ETHER_ADDR_LEN);
	/*
	 * Until a backend answers (server mode, late backend) nothing is
	 * negotiated, yet the app sizes its queues and MTU from the port's
	 * info: report the device this transport emulates.  Negotiation
	 * replaces both.
	 */
	dev->max_queue_pairs = devargs.queue_pairs;
	dev->max_mtu = devargs.mtu ? devargs.mtu : RTE_ETHER_MTU;

	ret = vireo_dev_init(eth_dev, vireo_user_wanted_features(&devargs));
	if (ret != 0) {
		dev->transport = NULL;
		vireo_user_free(vu);
		rte_eth_dev_release_port(eth_dev);
		return ret;
	}
	vu->eth_dev = eth_dev;
	if (vireo_vhost_user_mem_event_register(name, vireo_user_mem_event,
						vu) == 0)
		vu->mem_event_registered = true;
	vireo_user_watch_arm(vu);
	rte_eth_dev_probing_finish(eth_dev);
	VIREO_INIT_LOG(INFO, "%s: probed: path=%s %s queues=%u queue_size=%u packed_vq=%u mrg_rxbuf=%u in_order=%u cq=%u",
		       name, devargs.path, devargs.server ? "server" : "client",
		       devargs.queue_pairs, devargs.queue_size,
		       devargs.packed_vq, devargs.mrg_rxbuf, devargs.in_order,
		       devargs.cq);
	return 0;
}

static int
vireo_user_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *eth_dev;

	eth_dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));
	if (eth_dev == NULL)
		return 0;
	/* In the primary, closing releases the port (ethdev since 20.11);
	 * releasing it again would reset another port's fast-path ops. */
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		return rte_eth_dev_close(eth_dev->data->port_id);
	return rte_eth_dev_release_port(eth_dev);
}

static struct rte_vdev_driver vireo_user_driver = {
	.probe = vireo_user_probe,
	.remove = vireo_user_remove,
};

RTE_PMD_REGISTER_VDEV(net_vireo_user, vireo_user_driver);
RTE_PMD_REGISTER_PARAM_STRING(net_vireo_user, VIREO_USER_PARAM_STRING);
