/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The ethdev layer of a Vireo port, written once over the transport
 * interface: feature negotiation, queue memory, start/stop, link, MTU,
 * filters through the control queue, stats and xstats.
 */

/* The interrupt handle accessors (rte_intr_*) are still experimental in
 * DPDK 22.11, and a vdev must build its own handle for Rx interrupts. */
#define ALLOW_EXPERIMENTAL_API

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_interrupts.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <ethdev_driver.h>

#include "vireo_dev.h"
#include "vireo_log.h"
#include "vireo_rxtx.h"

/* What the data path and the ethdev layer can use, whatever the device. */
#define VIREO_DRIVER_FEATURES ( \
	VIREO_BIT(VIREO_F_VERSION_1) | \
	VIREO_BIT(VIREO_F_RING_PACKED) | \
	VIREO_BIT(VIREO_F_IN_ORDER) | \
	VIREO_BIT(VIREO_F_INDIRECT_DESC) | \
	VIREO_BIT(VIREO_F_ANY_LAYOUT) | \
	VIREO_BIT(VIREO_F_ACCESS_PLATFORM) | \
	VIREO_BIT(VIREO_NET_F_MRG_RXBUF) | \
	VIREO_BIT(VIREO_NET_F_MAC) | \
	VIREO_BIT(VIREO_NET_F_MTU) | \
	VIREO_BIT(VIREO_NET_F_STATUS) | \
	VIREO_BIT(VIREO_NET_F_CSUM) | \
	VIREO_BIT(VIREO_NET_F_HOST_TSO4) | \
	VIREO_BIT(VIREO_NET_F_HOST_TSO6) | \
	VIREO_BIT(VIREO_NET_F_GUEST_CSUM) | \
	VIREO_BIT(VIREO_NET_F_GUEST_TSO4) | \
	VIREO_BIT(VIREO_NET_F_GUEST_TSO6) | \
	VIREO_BIT(VIREO_NET_F_CTRL_VQ) | \
	VIREO_BIT(VIREO_NET_F_CTRL_RX) | \
	VIREO_BIT(VIREO_NET_F_CTRL_VLAN) | \
	VIREO_BIT(VIREO_NET_F_CTRL_MAC_ADDR) | \
	VIREO_BIT(VIREO_NET_F_MQ))

/* Offloads that need a feature on the device, and which. */
#define VIREO_RX_CSUM_FEATURES VIREO_BIT(VIREO_NET_F_GUEST_CSUM)
#define VIREO_RX_LRO_FEATURES (VIREO_BIT(VIREO_NET_F_GUEST_TSO4) | \
			       VIREO_BIT(VIREO_NET_F_GUEST_TSO6))
#define VIREO_TX_CSUM_FEATURES VIREO_BIT(VIREO_NET_F_CSUM)
#define VIREO_TX_TSO_FEATURES (VIREO_BIT(VIREO_NET_F_HOST_TSO4) | \
			       VIREO_BIT(VIREO_NET_F_HOST_TSO6))

#define VIREO_CVQ_TIMEOUT_MS 3000

static struct vireo_dev *
vireo_dev_of(struct rte_eth_dev *eth_dev)
{
	return eth_dev->data->dev_private;
}

/* ---- feature negotiation (spec 3.1.1) ---- */

static void
vireo_features_log(struct vireo_dev *dev)
{
	char words[512];

	vireo_feature_names(dev->features, words, sizeof(words));
	VIREO_INIT_LOG(INFO, "%s: negotiated features 0x%" PRIx64 ": %s%s",
		       dev->name, dev->features, words,
		       dev->ops->link_up(dev) ? "" :
		       " (no device yet: checked when it comes)");
}

/*
 * Resets the device and takes it to FEATURES_OK with what both sides
 * want, then reads the configuration the features make valid.
 */
static int
vireo_negotiate(struct vireo_dev *dev)
{
	const struct vireo_transport_ops *ops = dev->ops;
	struct vireo_net_config cfg;
	uint64_t want;
	int ret;

	ops->set_status(dev, 0);
	ops->set_status(dev, VIREO_STATUS_ACKNOWLEDGE);
	ops->set_status(dev, VIREO_STATUS_DRIVER);

	dev->host_features = ops->get_features(dev);
	/* Only a transport that speaks the legacy interface may drive a
	 * device without VERSION_1. */
	if (!ops->legacy &&
	    !(dev->host_features & VIREO_BIT(VIREO_F_VERSION_1))) {
		VIREO_INIT_LOG(ERR, "%s: device does not offer VERSION_1 (features 0x%" PRIx64 "): %s transport drives virtio 1.x devices only",
			       dev->name, dev->host_features, ops->name);
		return -ENOTSUP;
	}
	/* Our Rx and Tx put the net header and the frame in one buffer;
	 * a legacy device without ANY_LAYOUT wants them apart (5.1.6.6). */
	if (ops->legacy &&
	    !(dev->host_features & VIREO_BIT(VIREO_F_ANY_LAYOUT))) {
		VIREO_INIT_LOG(ERR, "%s: legacy device without ANY_LAYOUT (features 0x%" PRIx64 "): not supported",
			       dev->name, dev->host_features);
		return -ENOTSUP;
	}
	want = dev->req_features & VIREO_DRIVER_FEATURES;
	/* MQ without the control queue is meaningless (5.1.3.1). */
	if (!(dev->host_features & VIREO_BIT(VIREO_NET_F_CTRL_VQ)))
		want &= ~(VIREO_BIT(VIREO_NET_F_MQ) |
			  VIREO_BIT(VIREO_NET_F_CTRL_RX) |
			  VIREO_BIT(VIREO_NET_F_CTRL_VLAN) |
			  VIREO_BIT(VIREO_NET_F_CTRL_MAC_ADDR));
	dev->features = dev->host_features & want;

	ret = ops->set_features(dev, dev->features);
	if (ret != 0) {
		VIREO_INIT_LOG(ERR, "%s: device refused features 0x%" PRIx64,
			       dev->name, dev->features);
		return ret;
	}
	/* A legacy device has no FEATURES_OK (3.1.2): features count once
	 * written, and DRIVER_OK follows the queue setup. */
	if (!ops->legacy) {
		ops->set_status(dev, VIREO_STATUS_FEATURES_OK);
		if (!(ops->get_status(dev) & VIREO_STATUS_FEATURES_OK)) {
			VIREO_INIT_LOG(ERR, "%s: device did not accept FEATURES_OK",
				       dev->name);
			return -EIO;
		}
	}

	dev->packed = vireo_has(dev, VIREO_F_RING_PACKED);
	dev->in_order = vireo_has(dev, VIREO_F_IN_ORDER);
	dev->mergeable = vireo_has(dev, VIREO_NET_F_MRG_RXBUF);
	dev->has_cvq = vireo_has(dev, VIREO_NET_F_CTRL_VQ);
	/* Without VERSION_1 num_buffers exists only with MRG_RXBUF. */
	dev->hdr_size = vireo_has(dev, VIREO_F_VERSION_1) || dev->mergeable ?
		sizeof(struct vireo_net_hdr) : VIREO_NET_HDR_LEGACY_SIZE;

	memset(&cfg, 0, sizeof(cfg));
	if (vireo_has(dev, VIREO_NET_F_MAC) && !dev->mac_from_devargs) {
		ops->read_config(dev, offsetof(struct vireo_net_config, mac),
				 cfg.mac, sizeof(cfg.mac));
		memcpy(dev->mac.addr_bytes, cfg.mac, RTE_ETHER_ADDR_LEN);
	}
	dev->max_queue_pairs = 1;
	if (vireo_has(dev, VIREO_NET_F_MQ)) {
		ops->read_config(dev,
			offsetof(struct vireo_net_config, max_virtqueue_pairs),
			&cfg.max_virtqueue_pairs,
			sizeof(cfg.max_virtqueue_pairs));
		dev->max_queue_pairs = RTE_MIN(cfg.max_virtqueue_pairs,
					       (uint16_t)VIREO_MAX_QUEUE_PAIRS);
		if (dev->max_queue_pairs == 0)
			dev->max_queue_pairs = 1;
	}
	dev->max_mtu = RTE_ETHER_MTU;
	if (vireo_has(dev, VIREO_NET_F_MTU)) {
		ops->read_config(dev, offsetof(struct vireo_net_config, mtu),
				 &cfg.mtu, sizeof(cfg.mtu));
		if (cfg.mtu >= RTE_ETHER_MIN_MTU)
			dev->max_mtu = cfg.mtu;
	} else {
		/* Mergeable buffers take any frame; otherwise one mbuf. */
		dev->max_mtu = dev->mergeable ? 9000 : RTE_ETHER_MTU;
	}
	vireo_features_log(dev);
	return 0;
}

/* ---- queue memory ---- */

static uint16_t
vireo_queue_index(enum vireo_queue_kind kind, uint16_t queue_id)
{
	return kind == VIREO_QUEUE_RX ? 2 * queue_id : 2 * queue_id + 1;
}

/*
 * Ring memory for queue q: one memzone per ring, zeroed, shared with
 * the device; our slot table beside it in ordinary hugepage memory.
 */
static int
vireo_queue_alloc(struct vireo_dev *dev, struct vireo_queue *q,
		  enum vireo_queue_kind kind, uint16_t index, int socket_id)
{
	struct vireo_vq_config cfg;
	struct vireo_vq_areas areas;
	char name[RTE_MEMZONE_NAMESIZE];
	uint16_t max_size, size;
	int ret;

	max_size = dev->ops->queue_max_size(dev, index);
	if (max_size == 0) {
		VIREO_INIT_LOG(ERR, "%s: device has no queue %u", dev->name,
			       index);
		return -EINVAL;
	}
	size = dev->queue_size ? dev->queue_size : max_size;
	/* queue_size is for the data queues; a device's control queue may
	 * be smaller (QEMU's virtio-net: 64). */
	if (kind == VIREO_QUEUE_CTRL)
		size = RTE_MIN(size, max_size);
	if (size > max_size) {
		VIREO_INIT_LOG(ERR, "%s: queue_size %u above the device's maximum %u",
			       dev->name, size, max_size);
		return -EINVAL;
	}
	/* A legacy device's queue size is read-only: use it or nothing. */
	if (dev->ops->legacy && size != max_size) {
		if (kind != VIREO_QUEUE_CTRL) {
			VIREO_INIT_LOG(ERR, "%s: queue_size %u: a legacy device's queues have a fixed size (%u)",
				       dev->name, size, max_size);
			return -EINVAL;
		}
		size = max_size;
	}
	if (!dev->packed && !rte_is_power_of_2(size)) {
		VIREO_INIT_LOG(ERR, "%s: queue_size %u: the split layout needs a power of two",
			       dev->name, size);
		return -EINVAL;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (dev->in_order)
		cfg.options |= VIREO_VQ_OPT_IN_ORDER;
	if (vireo_has(dev, VIREO_F_INDIRECT_DESC))
		cfg.options |= VIREO_VQ_OPT_INDIRECT;
	if (dev->ops->legacy)
		cfg.options |= VIREO_VQ_OPT_LEGACY_LAYOUT;
	ret = vireo_vq_areas_for(dev->packed ? VIREO_VQ_PACKED : VIREO_VQ_SPLIT,
				 size, cfg.options, &areas);
	if (ret != 0)
		return -EINVAL;

	snprintf(name, sizeof(name), "vireo_%u_vq%u", dev->port_id, index);
	q->ring_mz = rte_memzone_reserve_aligned(name, areas.total, socket_id,
			RTE_MEMZONE_IOVA_CONTIG,
			RTE_MAX(areas.align, (size_t)RTE_CACHE_LINE_SIZE));
	if (q->ring_mz == NULL) {
		VIREO_INIT_LOG(ERR, "%s: no memory for ring %s (%zu bytes)",
			       dev->name, name, areas.total);
		return -ENOMEM;
	}
	memset(q->ring_mz->addr, 0, areas.total);
	q->slots = rte_zmalloc_socket("vireo_slots",
				      vireo_vq_slots_size(size),
				      RTE_CACHE_LINE_SIZE, socket_id);
	if (q->slots == NULL) {
		rte_memzone_free(q->ring_mz);
		q->ring_mz = NULL;
		return -ENOMEM;
	}
	q->ring_iova = dev->use_va ? (uint64_t)(uintptr_t)q->ring_mz->addr :
		q->ring_mz->iova;
	q->dev = dev;
	q->index = index;
	q->kind = kind;
	q->size = size;
	q->socket_id = socket_id;
	q->kick_fd = -1;

	cfg.layout = dev->packed ? VIREO_VQ_PACKED : VIREO_VQ_SPLIT;
	cfg.size = size;
	cfg.ring = q->ring_mz->addr;
	cfg.ring_iova = q->ring_iova;
	cfg.slots = q->slots;
	ret = vireo_vq_init(&q->vq, &cfg);
	if (ret != 0) {
		VIREO_INIT_LOG(ERR, "%s: ring init failed: %s", dev->name,
			       vireo_vq_strerror(ret));
		rte_free(q->slots);
		rte_memzone_free(q->ring_mz);
		q->slots = NULL;
		q->ring_mz = NULL;
		return -EINVAL;
	}
	return 0;
}

static void
vireo_queue_free(struct vireo_queue *q)
{
	/* The transport keeps a pointer to every queue it was handed (to
	 * give the rings to a backend that connects later): drop it before
	 * the memory goes, or a later start hands a freed ring over. */
	if (q->dev != NULL && q->dev->transport != NULL &&
	    q->dev->ops->queue_release != NULL)
		q->dev->ops->queue_release(q->dev, q);
	rte_free(q->slots);
	q->slots = NULL;
	rte_memzone_free(q->ring_mz);
	q->ring_mz = NULL;
}

/* ---- Rx and Tx queues ---- */

static void
vireo_rxq_drain(struct vireo_rxq *rxq)
{
	struct rte_mbuf *m;

	while ((m = vireo_vq_detach_unused(&rxq->q.vq)) != NULL)
		rte_pktmbuf_free(m);
	if (rxq->partial_head != NULL)
		rte_pktmbuf_free(rxq->partial_head);
	rxq->partial_head = NULL;
	rxq->partial_tail = NULL;
	rxq->partial_left = 0;
	rxq->partial_old = false;
	/* the ring starts over: a pending hand-over point means nothing */
	rxq->boundary_pending = false;
}

static void
vireo_txq_drain(struct vireo_txq *txq)
{
	struct rte_mbuf *m;

	while ((m = vireo_vq_detach_unused(&txq->q.vq)) != NULL)
		rte_pktmbuf_free(vireo_tx_cookie_mbuf(m));
}

static void
vireo_rx_queue_release(struct rte_eth_dev *eth_dev, uint16_t queue_id)
{
	struct vireo_rxq *rxq = eth_dev->data->rx_queues[queue_id];

	if (rxq == NULL)
		return;
	vireo_rxq_drain(rxq);
	vireo_queue_free(&rxq->q);
	rte_free(rxq);
	eth_dev->data->rx_queues[queue_id] = NULL;
}

static void
vireo_tx_queue_release(struct rte_eth_dev *eth_dev, uint16_t queue_id)
{
	struct vireo_txq *txq = eth_dev->data->tx_queues[queue_id];

	if (txq == NULL)
		return;
	vireo_txq_drain(txq);
	rte_memzone_free(txq->hdr_mz);
	vireo_queue_free(&txq->q);
	rte_free(txq);
	eth_dev->data->tx_queues[queue_id] = NULL;
}

/* Queues are set up on a stopped port only. */
static int
vireo_queue_setup_busy(const struct vireo_dev *dev)
{
	if (!dev->started)
		return 0;
	VIREO_DRV_LOG(ERR, "%s: stop the port before setting up queues",
		      dev->name);
	return -EBUSY;
}

/*
 * What Rx and Tx queue setup share: the old queue released, the new
 * queue structure (@size bytes, struct vireo_queue first) allocated with
 * its ring.  Returns it, or NULL with *ret set.
 */
static void *
vireo_queue_create(struct rte_eth_dev *eth_dev, enum vireo_queue_kind kind,
		   uint16_t queue_id, uint16_t nb_desc, unsigned int socket_id,
		   size_t size, int *ret)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	struct vireo_queue *q;
	bool rx = kind == VIREO_QUEUE_RX;

	if (nb_desc != 0 && nb_desc != dev->queue_size)
		VIREO_DRV_LOG(DEBUG, "%s: %s queue %u: nb_desc %u ignored, ring size comes from devargs queue_size",
			      dev->name, rx ? "Rx" : "Tx", queue_id, nb_desc);
	if (rx)
		vireo_rx_queue_release(eth_dev, queue_id);
	else
		vireo_tx_queue_release(eth_dev, queue_id);
	q = rte_zmalloc_socket(rx ? "vireo_rxq" : "vireo_txq", size,
			       RTE_CACHE_LINE_SIZE, socket_id);
	if (q == NULL) {
		*ret = -ENOMEM;
		return NULL;
	}
	*ret = vireo_queue_alloc(dev, q, kind, vireo_queue_index(kind, queue_id),
				 socket_id);
	if (*ret != 0) {
		rte_free(q);
		return NULL;
	}
	return q;
}

struct vireo_buf_check {
	uint32_t offset;
	bool check_iova;
	bool ok;
};

static void
vireo_buf_check_one(struct rte_mempool *mp __rte_unused, void *arg,
		    void *obj, unsigned int obj_idx __rte_unused)
{
	struct vireo_buf_check *check = arg;
	const struct rte_mbuf *m = obj;
	uintptr_t expect = (uintptr_t)m + check->offset;

	if ((uintptr_t)m->buf_addr != expect ||
	    (check->check_iova && m->buf_iova != expect))
		check->ok = false;
}

/*
 * Whether the Rx path may compute a fresh buffer's address from its
 * mbuf pointer instead of loading it from the mbuf (a cache miss per
 * buffer posted): true when every object of the pool has its buffer
 * right after the mbuf and its private area, as rte_pktmbuf_init puts
 * it and rte_pktmbuf_detach puts it back before a free, and that
 * address is also the device's.  The refill already relies on the same
 * invariant for the buffer's length.  Returns the offset, or 0.
 */
static uint32_t
vireo_rx_buf_offset(const struct vireo_dev *dev, struct rte_mempool *mp)
{
	struct vireo_buf_check check = {
		.offset = sizeof(struct rte_mbuf) + rte_pktmbuf_priv_size(mp),
		.check_iova = !dev->use_va,
		.ok = true,
	};

	if ((rte_pktmbuf_priv_flags(mp) & RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF) ||
	    (check.check_iova && rte_eal_iova_mode() != RTE_IOVA_VA))
		return 0;
	rte_mempool_obj_iter(mp, vireo_buf_check_one, &check);
	return check.ok ? check.offset : 0;
}

static int
vireo_rx_queue_setup(struct rte_eth_dev *eth_dev, uint16_t queue_id,
		     uint16_t nb_desc, unsigned int socket_id,
		     const struct rte_eth_rxconf *conf,
		     struct rte_mempool *mp)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint64_t offloads = conf->offloads |
		eth_dev->data->dev_conf.rxmode.offloads;
	uint32_t room = rte_pktmbuf_data_room_size(mp);
	uint32_t frame_max;
	struct vireo_rxq *rxq;
	int ret;

	ret = vireo_queue_setup_busy(dev);
	if (ret != 0)
		return ret;
	if (room < RTE_PKTMBUF_HEADROOM + VIREO_MIN_RX_BUF) {
		VIREO_DRV_LOG(ERR, "%s: Rx queue %u: mbuf data room %u too small, need at least %u",
			      dev->name, queue_id, room,
			      RTE_PKTMBUF_HEADROOM + VIREO_MIN_RX_BUF);
		return -EINVAL;
	}
	/* Without mergeable buffers one mbuf must hold a whole frame. */
	frame_max = eth_dev->data->mtu + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN +
		RTE_ETHER_CRC_LEN;
	if (!dev->mergeable &&
	    room - RTE_PKTMBUF_HEADROOM < frame_max &&
	    !(offloads & RTE_ETH_RX_OFFLOAD_SCATTER)) {
		VIREO_DRV_LOG(ERR, "%s: Rx queue %u: mbufs of %u bytes cannot hold a %u-byte frame (MTU %u) and mergeable buffers are off: use larger mbufs, a smaller MTU, or mrg_rxbuf=1",
			      dev->name, queue_id, room - RTE_PKTMBUF_HEADROOM,
			      frame_max, eth_dev->data->mtu);
		return -EINVAL;
	}
	rxq = vireo_queue_create(eth_dev, VIREO_QUEUE_RX, queue_id, nb_desc,
				 socket_id, sizeof(*rxq), &ret);
	if (rxq == NULL)
		return ret;
	rxq->mp = mp;
	rxq->port_id = eth_dev->data->port_id;
	rxq->queue_id = queue_id;
	rxq->hdr_size = dev->hdr_size;
	rxq->addr_offset = dev->use_va ? offsetof(struct rte_mbuf, buf_addr) :
		offsetof(struct rte_mbuf, buf_iova);
	/* The header goes in the end of the headroom, the frame where
	 * an mbuf's data normally starts. */
	rxq->buf_len = room - RTE_PKTMBUF_HEADROOM + dev->hdr_size;
	rxq->buf_offset = vireo_rx_buf_offset(dev, mp);
	VIREO_DRV_LOG(DEBUG, "%s: Rx queue %u: buffer addresses %s",
		      dev->name, queue_id, rxq->buf_offset != 0 ?
		      "computed from the mbuf" : "read from the mbuf");
	rxq->mergeable = dev->mergeable;
	rxq->csum_offload = (offloads & (RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
					 RTE_ETH_RX_OFFLOAD_TCP_CKSUM)) != 0;
	rxq->lro = (offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO) != 0;
	rxq->vlan_strip = (offloads & RTE_ETH_RX_OFFLOAD_VLAN_STRIP) != 0;
	eth_dev->data->rx_queues[queue_id] = rxq;
	return 0;
}

static int
vireo_tx_queue_setup(struct rte_eth_dev *eth_dev, uint16_t queue_id,
		     uint16_t nb_desc, unsigned int socket_id,
		     const struct rte_eth_txconf *conf)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint64_t offloads = conf->offloads |
		eth_dev->data->dev_conf.txmode.offloads;
	char name[RTE_MEMZONE_NAMESIZE];
	struct vireo_txq *txq;
	uint16_t i;
	int ret;

	ret = vireo_queue_setup_busy(dev);
	if (ret != 0)
		return ret;
	txq = vireo_queue_create(eth_dev, VIREO_QUEUE_TX, queue_id, nb_desc,
				 socket_id, sizeof(*txq), &ret);
	if (txq == NULL)
		return ret;
	/* Per buffer id: a header for packets that cannot carry theirs in
	 * the headroom, and an indirect table for long chains. */
	snprintf(name, sizeof(name), "vireo_%u_txhdr%u", dev->port_id,
		 queue_id);
	txq->hdr_mz = rte_memzone_reserve_aligned(name,
			(size_t)txq->q.size * sizeof(struct vireo_tx_slot_mem),
			socket_id, RTE_MEMZONE_IOVA_CONTIG, RTE_CACHE_LINE_SIZE);
	if (txq->hdr_mz == NULL) {
		vireo_queue_free(&txq->q);
		rte_free(txq);
		return -ENOMEM;
	}
	memset(txq->hdr_mz->addr, 0, txq->hdr_mz->len);
	txq->slot_mem = txq->hdr_mz->addr;
	txq->slot_mem_iova = dev->use_va ?
		(uint64_t)(uintptr_t)txq->hdr_mz->addr : txq->hdr_mz->iova;
	txq->use_indirect = vireo_has(dev, VIREO_F_INDIRECT_DESC);
	if (txq->use_indirect)
		for (i = 0; i < txq->q.size; i++)
			vireo_vq_set_indirect(&txq->q.vq, i,
				txq->slot_mem[i].indirect,
				txq->slot_mem_iova +
				i * sizeof(struct vireo_tx_slot_mem) +
				offsetof(struct vireo_tx_slot_mem, indirect),
				RTE_DIM(txq->slot_mem[i].indirect));
	txq->port_id = eth_dev->data->port_id;
	txq->queue_id = queue_id;
	txq->hdr_size = dev->hdr_size;
	txq->addr_offset = dev->use_va ? offsetof(struct rte_mbuf, buf_addr) :
		offsetof(struct rte_mbuf, buf_iova);
	txq->offload = (offloads & (RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
				    RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
				    RTE_ETH_TX_OFFLOAD_TCP_TSO)) != 0;
	txq->fast_free = (offloads & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) != 0;
	txq->free_thresh = conf->tx_free_thresh ? conf->tx_free_thresh :
		RTE_MIN(txq->q.size / 4, 32);
	eth_dev->data->tx_queues[queue_id] = txq;
	return 0;
}

/* ---- control queue ---- */

static int
vireo_cvq_alloc(struct vireo_dev *dev)
{
	char name[RTE_MEMZONE_NAMESIZE];
	struct vireo_cvq *cvq;
	int ret;

	cvq = rte_zmalloc_socket("vireo_cvq", sizeof(*cvq),
				 RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY);
	if (cvq == NULL)
		return -ENOMEM;
	ret = vireo_queue_alloc(dev, &cvq->q, VIREO_QUEUE_CTRL,
				2 * dev->max_queue_pairs, SOCKET_ID_ANY);
	if (ret != 0) {
		rte_free(cvq);
		return ret;
	}
	snprintf(name, sizeof(name), "vireo_%u_cvqbuf", dev->port_id);
	cvq->buf_mz = rte_memzone_reserve_aligned(name, RTE_PGSIZE_4K,
			SOCKET_ID_ANY, RTE_MEMZONE_IOVA_CONTIG,
			RTE_CACHE_LINE_SIZE);
	if (cvq->buf_mz == NULL) {
		vireo_queue_free(&cvq->q);
		rte_free(cvq);
		return -ENOMEM;
	}
	cvq->buf = cvq->buf_mz->addr;
	cvq->buf_iova = dev->use_va ? (uint64_t)(uintptr_t)cvq->buf :
		cvq->buf_mz->iova;
	cvq->timeout_ms = VIREO_CVQ_TIMEOUT_MS;
	rte_spinlock_init(&cvq->lock);
	dev->cvq = cvq;
	return 0;
}

static void
vireo_cvq_free(struct vireo_dev *dev)
{
	if (dev->cvq == NULL)
		return;
	rte_memzone_free(dev->cvq->buf_mz);
	vireo_queue_free(&dev->cvq->q);
	rte_free(dev->cvq);
	dev->cvq = NULL;
}

/* ---- Rx interrupts: the event fds behind rte_eth_dev_rx_intr_ctl_q ---- */

/*
 * A vdev comes without an interrupt handle.  With intr_conf.rxq the port
 * gets one whose event fd i is the call eventfd of Rx queue i: the
 * device writes it when it uses a buffer while we asked for events
 * (rx_queue_intr_enable), and EAL reads 8 bytes from it on wake-up.
 * The fds belong to the transport: max_intr == nb_efd keeps
 * rte_intr_efd_disable() from ever closing them.
 */
static int
vireo_rx_intr_bind(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint16_t nb = eth_dev->data->nb_rx_queues, i;
	struct rte_intr_handle *h = eth_dev->intr_handle;
	int fd;

	if (!eth_dev->data->dev_conf.intr_conf.rxq)
		return 0;
	if (dev->ops->queue_intr_fd == NULL)
		return -ENOTSUP;
	if (h == NULL) {
		h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
		if (h == NULL)
			return -ENOMEM;
		eth_dev->intr_handle = h;
		dev->intr_handle_ours = true;
	}
	if (rte_intr_type_set(h, RTE_INTR_HANDLE_VDEV) != 0 ||
	    rte_intr_efd_counter_size_set(h, sizeof(uint64_t)) != 0)
		return -rte_errno;
	/* The queue count may have changed since the last start. */
	rte_intr_vec_list_free(h);
	if (rte_intr_vec_list_alloc(h, "vireo_rx_intr", nb) != 0) {
		VIREO_DRV_LOG(ERR, "%s: no interrupt vectors for %u Rx queues",
			      dev->name, nb);
		return -ENOMEM;
	}
	for (i = 0; i < nb; i++) {
		fd = dev->ops->queue_intr_fd(dev,
				vireo_queue_index(VIREO_QUEUE_RX, i));
		if (fd < 0) {
			VIREO_DRV_LOG(ERR, "%s: Rx queue %u has no interrupt eventfd",
				      dev->name, i);
			return -ENOTSUP;
		}
		if (rte_intr_efds_index_set(h, i, fd) != 0 ||
		    rte_intr_vec_list_index_set(h, i,
				RTE_INTR_VEC_RXTX_OFFSET + i) != 0)
			return -rte_errno;
	}
	if (rte_intr_nb_efd_set(h, nb) != 0 || rte_intr_max_intr_set(h, nb) != 0)
		return -rte_errno;
	return 0;
}

/* The queues go away with the device: take their fds out of any epoll
 * set the app put them in, so a restarted port can be added again. */
static void
vireo_rx_intr_unbind(struct rte_eth_dev *eth_dev)
{
	struct rte_intr_handle *h = eth_dev->intr_handle;

	if (h == NULL || !vireo_dev_of(eth_dev)->intr_handle_ours)
		return;
	rte_intr_free_epoll_fd(h);
	rte_intr_nb_efd_set(h, 0);
	rte_intr_max_intr_set(h, 0);
}

static void
vireo_rx_intr_free(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);

	if (eth_dev->intr_handle == NULL || !dev->intr_handle_ours)
		return;
	vireo_rx_intr_unbind(eth_dev);
	rte_intr_vec_list_free(eth_dev->intr_handle);
	rte_intr_instance_free(eth_dev->intr_handle);
	eth_dev->intr_handle = NULL;
	dev->intr_handle_ours = false;
}

/* ---- start and stop ---- */

/* Hands every ring to the device, then DRIVER_OK. */
static int
vireo_queues_to_device(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	struct vireo_queue *q;
	uint16_t i;
	int ret;

	for (i = 0; i < dev->nb_queue_pairs; i++) {
		struct vireo_rxq *rxq = eth_dev->data->rx_queues[i];
		struct vireo_txq *txq = eth_dev->data->tx_queues[i];

		if (rxq == NULL || txq == NULL) {
			VIREO_DRV_LOG(ERR, "%s: queue pair %u not set up",
				      dev->name, i);
			return -EINVAL;
		}
		vireo_vq_reset(&rxq->q.vq);
		vireo_vq_reset(&txq->q.vq);
		ret = dev->ops->queue_setup(dev, &rxq->q);
		if (ret == 0)
			ret = dev->ops->queue_setup(dev, &txq->q);
		if (ret != 0)
			return ret;
	}
	if (dev->cvq != NULL) {
		q = &dev->cvq->q;
		vireo_vq_reset(&q->vq);
		ret = dev->ops->queue_setup(dev, q);
		if (ret != 0)
			return ret;
	}
	/* Rx buffers go in before DRIVER_OK so the device starts with a
	 * full ring. */
	for (i = 0; i < dev->nb_queue_pairs; i++) {
		ret = vireo_rxq_fill(eth_dev->data->rx_queues[i]);
		if (ret != 0)
			return ret;
	}
	ret = dev->ops->set_status(dev, VIREO_STATUS_DRIVER_OK);
	if (ret != 0)
		return ret;
	if (!(dev->ops->get_status(dev) & VIREO_STATUS_DRIVER_OK))
		return -EIO;
	return 0;
}

static int vireo_mac_table_push(struct rte_eth_dev *eth_dev);

/* Replays what the device forgot at reset: queue pairs and filters. */
static int
vireo_replay_filters(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint16_t pairs = dev->nb_queue_pairs;
	int ret;

	if (!dev->has_cvq)
		return 0;
	if (vireo_has(dev, VIREO_NET_F_MQ)) {
		ret = vireo_cvq_command(dev, VIREO_NET_CTRL_MQ,
					VIREO_NET_CTRL_MQ_VQ_PAIRS_SET,
					&pairs, sizeof(pairs));
		if (ret != 0) {
			VIREO_DRV_LOG(ERR, "%s: device refused %u queue pairs",
				      dev->name, pairs);
			return ret;
		}
	}
	if (vireo_has(dev, VIREO_NET_F_CTRL_RX)) {
		uint8_t on = dev->promisc;

		vireo_cvq_command(dev, VIREO_NET_CTRL_RX,
				  VIREO_NET_CTRL_RX_PROMISC, &on, 1);
		on = dev->allmulti;
		vireo_cvq_command(dev, VIREO_NET_CTRL_RX,
				  VIREO_NET_CTRL_RX_ALLMULTI, &on, 1);
	}
	/* The default address and the MAC table (extra unicast and
	 * multicast addresses added while the port was stopped or before
	 * the reset). */
	if (vireo_has(dev, VIREO_NET_F_CTRL_MAC_ADDR))
		vireo_cvq_command(dev, VIREO_NET_CTRL_MAC,
				  VIREO_NET_CTRL_MAC_ADDR_SET,
				  &eth_dev->data->mac_addrs[0],
				  RTE_ETHER_ADDR_LEN);
	vireo_mac_table_push(eth_dev);
	if (vireo_has(dev, VIREO_NET_F_CTRL_VLAN)) {
		uint16_t vid;

		for (vid = 0; vid < VIREO_MAX_VLAN; vid++)
			if (dev->vlan_bitmap[vid / 64] & (UINT64_C(1) << (vid % 64)))
				vireo_cvq_command(dev, VIREO_NET_CTRL_VLAN,
						  VIREO_NET_CTRL_VLAN_ADD,
						  &vid, sizeof(vid));
	}
	return 0;
}

static void
vireo_link_set(struct rte_eth_dev *eth_dev, bool up)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	link.link_speed = dev->speed ? dev->speed : RTE_ETH_SPEED_NUM_UNKNOWN;
	link.link_autoneg = RTE_ETH_LINK_FIXED;
	link.link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	rte_eth_linkstatus_set(eth_dev, &link);
}

static int
vireo_link_update(struct rte_eth_dev *eth_dev, int wait __rte_unused)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	bool up = dev->started && dev->ops->link_up(dev);

	if (up && vireo_has(dev, VIREO_NET_F_STATUS)) {
		uint16_t status = 0;

		if (dev->ops->read_config(dev,
				offsetof(struct vireo_net_config, status),
				&status, sizeof(status)) == 0)
			up = (status & VIREO_NET_S_LINK_UP) != 0;
	}
	vireo_link_set(eth_dev, up);
	return 0;
}

/*
 * The transport saw the link change (backend connected or gone): ask
 * the app to look, if it wants LSC events.
 */
void
vireo_dev_link_changed(struct rte_eth_dev *eth_dev)
{
	struct rte_eth_link before, after;

	rte_eth_linkstatus_get(eth_dev, &before);
	vireo_link_update(eth_dev, 0);
	rte_eth_linkstatus_get(eth_dev, &after);
	if (before.link_status != after.link_status) {
		VIREO_DRV_LOG(INFO, "%s: link %s",
			      vireo_dev_of(eth_dev)->name,
			      after.link_status ? "up" : "down");
		if (eth_dev->data->dev_conf.intr_conf.lsc)
			rte_eth_dev_callback_process(eth_dev,
					RTE_ETH_EVENT_INTR_LSC, NULL);
	}
}

static void
vireo_device_stop(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint16_t i;

	/* Reset takes the rings back from the device; only then are the
	 * buffers in them ours to free. */
	dev->ops->set_status(dev, 0);
	for (i = 0; i < eth_dev->data->nb_rx_queues; i++)
		if (eth_dev->data->rx_queues[i] != NULL)
			vireo_rxq_drain(eth_dev->data->rx_queues[i]);
	for (i = 0; i < eth_dev->data->nb_tx_queues; i++)
		if (eth_dev->data->tx_queues[i] != NULL)
			vireo_txq_drain(eth_dev->data->tx_queues[i]);
	if (dev->cvq != NULL)
		vireo_vq_reset(&dev->cvq->q.vq);
}

static int
vireo_dev_start(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint64_t layout_features = dev->features &
		(VIREO_BIT(VIREO_F_RING_PACKED) | VIREO_BIT(VIREO_F_IN_ORDER) |
		 VIREO_BIT(VIREO_NET_F_MRG_RXBUF));
	uint16_t i;
	int ret;

	/* Every start begins from a reset device.  Without a backend yet
	 * the transport takes the rings and hands them over when one
	 * connects; the link comes up then (LSC). */
	ret = vireo_negotiate(dev);
	if (ret != 0)
		goto fail;
	if ((dev->features & (VIREO_BIT(VIREO_F_RING_PACKED) |
			      VIREO_BIT(VIREO_F_IN_ORDER) |
			      VIREO_BIT(VIREO_NET_F_MRG_RXBUF))) !=
	    layout_features) {
		VIREO_DRV_LOG(ERR, "%s: the backend now offers other ring features than when the queues were set up: reconfigure the port",
			      dev->name);
		ret = -EINVAL;
		goto fail;
	}
	ret = vireo_queues_to_device(eth_dev);
	if (ret != 0)
		goto fail;
	dev->started = true;
	ret = vireo_replay_filters(eth_dev);
	if (ret != 0)
		goto fail_started;
	ret = vireo_rx_intr_bind(eth_dev);
	if (ret != 0) {
		VIREO_DRV_LOG(ERR, "%s: Rx interrupts not set up", dev->name);
		goto fail_started;
	}

	vireo_select_path(eth_dev);
	for (i = 0; i < eth_dev->data->nb_rx_queues; i++)
		eth_dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	for (i = 0; i < eth_dev->data->nb_tx_queues; i++)
		eth_dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	vireo_link_update(eth_dev, 0);
	return 0;

fail_started:
	dev->started = false;
fail:
	vireo_device_stop(eth_dev);
	VIREO_DRV_LOG(ERR, "%s: start failed: %s", dev->name, strerror(-ret));
	return ret;
}

static int
vireo_dev_stop(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint16_t i;

	if (!dev->started)
		return 0;
	dev->started = false;
	vireo_set_stopped_path(eth_dev);
	/* Bursts still running on other lcores must be done with the rings
	 * before we take them back; the app's contract is to stop them
	 * before dev_stop, we only make the new burst functions visible. */
	rte_mb();
	vireo_rx_intr_unbind(eth_dev);
	vireo_device_stop(eth_dev);
	for (i = 0; i < eth_dev->data->nb_rx_queues; i++)
		eth_dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (i = 0; i < eth_dev->data->nb_tx_queues; i++)
		eth_dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	vireo_link_set(eth_dev, false);
	return 0;
}

/* ---- configure, info ---- */

static uint64_t
vireo_rx_offload_capa(const struct vireo_dev *dev)
{
	uint64_t capa = RTE_ETH_RX_OFFLOAD_SCATTER |
		RTE_ETH_RX_OFFLOAD_VLAN_STRIP;

	/* The filter table lives in the device, behind the control queue. */
	if (dev->host_features & VIREO_BIT(VIREO_NET_F_CTRL_VLAN))
		capa |= RTE_ETH_RX_OFFLOAD_VLAN_FILTER;

	if (dev->host_features & VIREO_RX_CSUM_FEATURES)
		capa |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
			RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	if ((dev->host_features & VIREO_RX_LRO_FEATURES) ==
	    VIREO_RX_LRO_FEATURES)
		capa |= RTE_ETH_RX_OFFLOAD_TCP_LRO;
	return capa;
}

static uint64_t
vireo_tx_offload_capa(const struct vireo_dev *dev)
{
	uint64_t capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS |
		RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;

	if (dev->host_features & VIREO_TX_CSUM_FEATURES)
		capa |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
			RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	if ((dev->host_features & VIREO_TX_TSO_FEATURES) ==
	    VIREO_TX_TSO_FEATURES)
		capa |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
	return capa;
}

static int
vireo_dev_configure(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	const struct rte_eth_conf *conf = &eth_dev->data->dev_conf;
	uint16_t nb_rx = eth_dev->data->nb_rx_queues;
	uint16_t nb_tx = eth_dev->data->nb_tx_queues;
	uint64_t want = dev->base_features;
	int ret;

	if (conf->rxmode.mq_mode != RTE_ETH_MQ_RX_NONE &&
	    conf->rxmode.mq_mode != RTE_ETH_MQ_RX_RSS) {
		VIREO_DRV_LOG(ERR, "%s: Rx multi-queue mode %d not supported",
			      dev->name, conf->rxmode.mq_mode);
		return -EINVAL;
	}
	if (conf->rxmode.offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO)
		want |= VIREO_RX_LRO_FEATURES;
	if (conf->rxmode.offloads & (RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
				     RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
				     RTE_ETH_RX_OFFLOAD_TCP_LRO))
		want |= VIREO_RX_CSUM_FEATURES;
	if (conf->txmode.offloads & (RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
				     RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
				     RTE_ETH_TX_OFFLOAD_TCP_TSO))
		want |= VIREO_TX_CSUM_FEATURES;
	if (conf->txmode.offloads & RTE_ETH_TX_OFFLOAD_TCP_TSO)
		want |= VIREO_TX_TSO_FEATURES;

	if (want != dev->req_features || dev->features == 0) {
		dev->req_features = want;
		ret = vireo_negotiate(dev);
		if (ret != 0)
			return ret;
	}
	if ((conf->rxmode.offloads & ~vireo_rx_offload_capa(dev)) ||
	    (conf->txmode.offloads & ~vireo_tx_offload_capa(dev))) {
		VIREO_DRV_LOG(ERR, "%s: offloads the device cannot do requested (rx 0x%" PRIx64 ", tx 0x%" PRIx64 ")",
			      dev->name,
			      conf->rxmode.offloads & ~vireo_rx_offload_capa(dev),
			      conf->txmode.offloads & ~vireo_tx_offload_capa(dev));
		return -ENOTSUP;
	}
	if (nb_rx != nb_tx) {
		VIREO_DRV_LOG(ERR, "%s: virtio queues come in pairs: %u Rx and %u Tx queues requested",
			      dev->name, nb_rx, nb_tx);
		return -EINVAL;
	}
	if (nb_rx > dev->max_queue_pairs) {
		VIREO_DRV_LOG(ERR, "%s: %u queue pairs requested, the device has %u",
			      dev->name, nb_rx, dev->max_queue_pairs);
		return -EINVAL;
	}
	if (nb_rx > 1 && !vireo_has(dev, VIREO_NET_F_MQ)) {
		VIREO_DRV_LOG(ERR, "%s: %u queue pairs need VIRTIO_NET_F_MQ, which was not negotiated",
			      dev->name, nb_rx);
		return -EINVAL;
	}
	dev->nb_queue_pairs = nb_rx;

	vireo_cvq_free(dev);
	if (dev->has_cvq) {
		ret = vireo_cvq_alloc(dev);
		if (ret != 0)
			return ret;
	}
	if (conf->intr_conf.rxq && dev->ops->queue_intr_fd == NULL) {
		VIREO_DRV_LOG(ERR, "%s: Rx interrupts not supported by transport %s",
			      dev->name, dev->ops->name);
		return -ENOTSUP;
	}
	return 0;
}

static int
vireo_dev_infos_get(struct rte_eth_dev *eth_dev, struct rte_eth_dev_info *info)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint16_t max_pairs = dev->max_queue_pairs ? dev->max_queue_pairs : 1;

	info->max_rx_queues = max_pairs;
	info->max_tx_queues = max_pairs;
	info->min_rx_bufsize = VIREO_MIN_RX_BUF;
	info->max_rx_pktlen = dev->max_mtu + RTE_ETHER_HDR_LEN +
		RTE_VLAN_HLEN + RTE_ETHER_CRC_LEN;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = dev->max_mtu;
	info->max_mac_addrs = VIREO_MAX_MAC_ADDRS;
	info->rx_offload_capa = vireo_rx_offload_capa(dev);
	info->tx_offload_capa = vireo_tx_offload_capa(dev);
	info->rx_queue_offload_capa = info->rx_offload_capa;
	info->tx_queue_offload_capa = info->tx_offload_capa;
	info->dev_capa &= ~RTE_ETH_DEV_CAPA_FLOW_RULE_KEEP;
	info->speed_capa = RTE_ETH_LINK_SPEED_AUTONEG;
	info->rx_desc_lim.nb_max = VIREO_VQ_MAX_SIZE;
	info->rx_desc_lim.nb_min = 1;
	info->rx_desc_lim.nb_align = 1;
	info->tx_desc_lim = info->rx_desc_lim;
	/* Ring sizes come from devargs; report them as the defaults. */
	info->default_rxportconf.ring_size = dev->queue_size;
	info->default_txportconf.ring_size = dev->queue_size;
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.nb_queues = 1;
	return 0;
}

static int
vireo_dev_close(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint16_t i;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	vireo_dev_stop(eth_dev);
	for (i = 0; i < eth_dev->data->nb_rx_queues; i++)
		vireo_rx_queue_release(eth_dev, i);
	for (i = 0; i < eth_dev->data->nb_tx_queues; i++)
		vireo_tx_queue_release(eth_dev, i);
	vireo_cvq_free(dev);
	vireo_rx_intr_free(eth_dev);
	vireo_dev_uninit(eth_dev);
	return 0;
}

/* Back to the state after probe: the app configures the port again. */
static int
vireo_dev_reset(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint16_t i;

	vireo_dev_stop(eth_dev);
	for (i = 0; i < eth_dev->data->nb_rx_queues; i++)
		vireo_rx_queue_release(eth_dev, i);
	for (i = 0; i < eth_dev->data->nb_tx_queues; i++)
		vireo_tx_queue_release(eth_dev, i);
	vireo_cvq_free(dev);
	dev->req_features = dev->base_features;
	dev->features = 0;
	if (dev->ops->link_up(dev))
		return vireo_negotiate(dev);
	return 0;
}

static int
vireo_mtu_set(struct rte_eth_dev *eth_dev, uint16_t mtu)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);

	if (mtu < RTE_ETHER_MIN_MTU || mtu > dev->max_mtu) {
		VIREO_DRV_LOG(ERR, "%s: MTU %u out of range %u..%u", dev->name,
			      mtu, RTE_ETHER_MIN_MTU, dev->max_mtu);
		return -EINVAL;
	}
	dev->mtu = mtu;
	return 0;
}

/* ---- Rx filters, through the control queue ---- */

static int
vireo_rx_mode(struct rte_eth_dev *eth_dev, uint8_t cmd, bool on)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint8_t value = on;
	int ret;

	if (!vireo_has(dev, VIREO_NET_F_CTRL_RX)) {
		/* A device without CTRL_RX receives everything already. */
		if (on)
			return 0;
		VIREO_DRV_LOG(INFO, "%s: no control queue Rx mode (cq=1 and a backend with CTRL_RX needed)",
			      dev->name);
		return -ENOTSUP;
	}
	if (dev->started) {
		ret = vireo_cvq_command(dev, VIREO_NET_CTRL_RX, cmd,
					&value, sizeof(value));
		if (ret != 0)
			return ret;
	}
	if (cmd == VIREO_NET_CTRL_RX_PROMISC)
		dev->promisc = on;
	else
		dev->allmulti = on;
	return 0;
}

static int
vireo_promiscuous_enable(struct rte_eth_dev *eth_dev)
{
	return vireo_rx_mode(eth_dev, VIREO_NET_CTRL_RX_PROMISC, true);
}

static int
vireo_promiscuous_disable(struct rte_eth_dev *eth_dev)
{
	return vireo_rx_mode(eth_dev, VIREO_NET_CTRL_RX_PROMISC, false);
}

static int
vireo_allmulticast_enable(struct rte_eth_dev *eth_dev)
{
	return vireo_rx_mode(eth_dev, VIREO_NET_CTRL_RX_ALLMULTI, true);
}

static int
vireo_allmulticast_disable(struct rte_eth_dev *eth_dev)
{
	return vireo_rx_mode(eth_dev, VIREO_NET_CTRL_RX_ALLMULTI, false);
}

/*
 * MAC_TABLE_SET carries two tables, unicast then multicast, each a
 * 32-bit count followed by the addresses (5.1.6.5.2).
 */
static int
vireo_mac_table_push(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	struct rte_ether_addr *addrs = eth_dev->data->mac_addrs;
	/* Unicast and multicast from the MAC table, plus the mc list. */
	uint8_t buf[2 * sizeof(uint32_t) +
		    2 * VIREO_MAX_MAC_ADDRS * RTE_ETHER_ADDR_LEN];
	uint32_t uc = 0, mc = 0, i;
	size_t off;

	if (!vireo_has(dev, VIREO_NET_F_CTRL_RX) || !dev->started)
		return 0;
	/* Index 0 is the default address, set with MAC_ADDR_SET. */
	off = sizeof(uint32_t);
	for (i = 1; i < VIREO_MAX_MAC_ADDRS; i++)
		if (!rte_is_zero_ether_addr(&addrs[i]) &&
		    !rte_is_multicast_ether_addr(&addrs[i])) {
			memcpy(buf + off, &addrs[i], RTE_ETHER_ADDR_LEN);
			off += RTE_ETHER_ADDR_LEN;
			uc++;
		}
	memcpy(buf, &uc, sizeof(uc));
	size_t mc_count_off = off;

	off += sizeof(uint32_t);
	for (i = 1; i < VIREO_MAX_MAC_ADDRS; i++)
		if (rte_is_multicast_ether_addr(&addrs[i])) {
			memcpy(buf + off, &addrs[i], RTE_ETHER_ADDR_LEN);
			off += RTE_ETHER_ADDR_LEN;
			mc++;
		}
	for (i = 0; i < dev->mc_count; i++) {
		memcpy(buf + off, &dev->mc_table[i], RTE_ETHER_ADDR_LEN);
		off += RTE_ETHER_ADDR_LEN;
		mc++;
	}
	memcpy(buf + mc_count_off, &mc, sizeof(mc));
	return vireo_cvq_command(dev, VIREO_NET_CTRL_MAC,
				 VIREO_NET_CTRL_MAC_TABLE_SET, buf, off);
}

static int
vireo_mac_addr_add(struct rte_eth_dev *eth_dev,
		   struct rte_ether_addr *mac __rte_unused,
		   uint32_t index __rte_unused, uint32_t vmdq __rte_unused)
{
	/* ethdev stored it in data->mac_addrs[index] already. */
	return vireo_mac_table_push(eth_dev);
}

static void
vireo_mac_addr_remove(struct rte_eth_dev *eth_dev, uint32_t index __rte_unused)
{
	vireo_mac_table_push(eth_dev);
}

static int
vireo_mac_addr_set(struct rte_eth_dev *eth_dev, struct rte_ether_addr *mac)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	int ret;

	if (vireo_has(dev, VIREO_NET_F_CTRL_MAC_ADDR) && dev->started) {
		ret = vireo_cvq_command(dev, VIREO_NET_CTRL_MAC,
					VIREO_NET_CTRL_MAC_ADDR_SET,
					mac, RTE_ETHER_ADDR_LEN);
		if (ret != 0)
			return ret;
	} else if (vireo_has(dev, VIREO_NET_F_MAC) && dev->ops->write_config) {
		dev->ops->write_config(dev,
			offsetof(struct vireo_net_config, mac), mac,
			RTE_ETHER_ADDR_LEN);
	}
	dev->mac = *mac;
	return 0;
}

static int
vireo_set_mc_addr_list(struct rte_eth_dev *eth_dev,
		       struct rte_ether_addr *mc_addrs, uint32_t nb)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint32_t i, old_count = dev->mc_count;
	struct rte_ether_addr old[VIREO_MAX_MAC_ADDRS];
	int ret;

	if (nb > VIREO_MAX_MAC_ADDRS) {
		VIREO_DRV_LOG(ERR, "%s: %u multicast addresses, at most %u",
			      dev->name, nb, VIREO_MAX_MAC_ADDRS);
		return -ENOSPC;
	}
	for (i = 0; i < nb; i++)
		if (!rte_is_multicast_ether_addr(&mc_addrs[i]))
			return -EINVAL;
	if (nb > 0 && !vireo_has(dev, VIREO_NET_F_CTRL_RX)) {
		VIREO_DRV_LOG(INFO, "%s: multicast filter needs the control queue with CTRL_RX",
			      dev->name);
		return -ENOTSUP;
	}
	memcpy(old, dev->mc_table, sizeof(old));
	/* an empty list may come as NULL (testpmd's flush): no memcpy
	 * from NULL, even of nothing */
	if (nb > 0)
		memcpy(dev->mc_table, mc_addrs, nb * sizeof(*mc_addrs));
	dev->mc_count = nb;
	ret = vireo_mac_table_push(eth_dev);
	if (ret != 0) {
		/* The device kept the old table: so do we. */
		memcpy(dev->mc_table, old, sizeof(old));
		dev->mc_count = old_count;
	}
	return ret;
}

static int
vireo_vlan_offload_set(struct rte_eth_dev *eth_dev, int mask)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint64_t offloads = eth_dev->data->dev_conf.rxmode.offloads;

	/* ethdev has already updated rxmode.offloads; say whether we can. */
	if ((mask & RTE_ETH_VLAN_FILTER_MASK) &&
	    (offloads & RTE_ETH_RX_OFFLOAD_VLAN_FILTER) &&
	    !vireo_has(dev, VIREO_NET_F_CTRL_VLAN)) {
		VIREO_DRV_LOG(INFO, "%s: VLAN filter needs the control queue with CTRL_VLAN",
			      dev->name);
		return -ENOTSUP;
	}
	/* Stripping is done in software on the Rx path, per queue. */
	if (mask & RTE_ETH_VLAN_STRIP_MASK) {
		uint16_t i;

		for (i = 0; i < eth_dev->data->nb_rx_queues; i++) {
			struct vireo_rxq *rxq = eth_dev->data->rx_queues[i];

			if (rxq != NULL)
				rxq->vlan_strip = (offloads &
					RTE_ETH_RX_OFFLOAD_VLAN_STRIP) != 0;
		}
	}
	if (((mask & RTE_ETH_VLAN_EXTEND_MASK) &&
	     (offloads & RTE_ETH_RX_OFFLOAD_VLAN_EXTEND)) ||
	    ((mask & RTE_ETH_QINQ_STRIP_MASK) &&
	     (offloads & RTE_ETH_RX_OFFLOAD_QINQ_STRIP)))
		return -ENOTSUP;
	return 0;
}

static int
vireo_vlan_filter_set(struct rte_eth_dev *eth_dev, uint16_t vid, int on)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	uint64_t bit = UINT64_C(1) << (vid % 64);
	int ret;

	if (vid >= VIREO_MAX_VLAN)
		return -EINVAL;
	if (!vireo_has(dev, VIREO_NET_F_CTRL_VLAN)) {
		VIREO_DRV_LOG(INFO, "%s: VLAN filter needs the control queue with CTRL_VLAN",
			      dev->name);
		return -ENOTSUP;
	}
	if (dev->started) {
		ret = vireo_cvq_command(dev, VIREO_NET_CTRL_VLAN,
					on ? VIREO_NET_CTRL_VLAN_ADD :
					VIREO_NET_CTRL_VLAN_DEL,
					&vid, sizeof(vid));
		if (ret != 0)
			return ret;
	}
	if (on)
		dev->vlan_bitmap[vid / 64] |= bit;
	else
		dev->vlan_bitmap[vid / 64] &= ~bit;
	return 0;
}

/* ---- Rx interrupts ---- */

static int
vireo_rx_queue_intr_enable(struct rte_eth_dev *eth_dev, uint16_t queue_id)
{
	struct vireo_rxq *rxq = eth_dev->data->rx_queues[queue_id];

	/* A used buffer already waiting means no interrupt will come
	 * for it: the app polls again when the caller sees it pending. */
	vireo_vq_enable_cb(&rxq->q.vq);
	return 0;
}

static int
vireo_rx_queue_intr_disable(struct rte_eth_dev *eth_dev, uint16_t queue_id)
{
	struct vireo_rxq *rxq = eth_dev->data->rx_queues[queue_id];

	vireo_vq_disable_cb(&rxq->q.vq);
	return 0;
}

/* ---- stats ---- */

/* The counters of queue @qid in one direction, or NULL if not set up. */
static struct vireo_queue_stats *
vireo_queue_stats_of(struct rte_eth_dev *eth_dev, bool rx, uint16_t qid)
{
	if (rx) {
		struct vireo_rxq *rxq = eth_dev->data->rx_queues[qid];

		return rxq != NULL ? &rxq->stats : NULL;
	} else {
		struct vireo_txq *txq = eth_dev->data->tx_queues[qid];

		return txq != NULL ? &txq->stats : NULL;
	}
}

static int
vireo_stats_get(struct rte_eth_dev *eth_dev, struct rte_eth_stats *stats)
{
	const struct vireo_queue_stats *q;
	uint16_t i;

	for (i = 0; i < eth_dev->data->nb_rx_queues; i++) {
		q = vireo_queue_stats_of(eth_dev, true, i);
		if (q == NULL)
			continue;
		stats->ipackets += q->packets;
		stats->ibytes += q->bytes;
		stats->ierrors += q->errors;
		stats->rx_nombuf += q->nombuf;
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			stats->q_ipackets[i] = q->packets;
			stats->q_ibytes[i] = q->bytes;
			stats->q_errors[i] = q->errors;
		}
	}
	for (i = 0; i < eth_dev->data->nb_tx_queues; i++) {
		q = vireo_queue_stats_of(eth_dev, false, i);
		if (q == NULL)
			continue;
		stats->opackets += q->packets;
		stats->obytes += q->bytes;
		stats->oerrors += q->errors;
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			stats->q_opackets[i] = q->packets;
			stats->q_obytes[i] = q->bytes;
		}
	}
	return 0;
}

static int
vireo_stats_reset(struct rte_eth_dev *eth_dev)
{
	struct vireo_queue_stats *q;
	uint16_t i, n;
	int rx;

	for (rx = 0; rx < 2; rx++) {
		n = rx ? eth_dev->data->nb_rx_queues :
			eth_dev->data->nb_tx_queues;
		for (i = 0; i < n; i++) {
			q = vireo_queue_stats_of(eth_dev, rx, i);
			if (q != NULL)
				memset(q, 0, sizeof(*q));
		}
	}
	return 0;
}

/* Grouped by what they serve; ethdev finds each by name. */
const struct eth_dev_ops vireo_eth_dev_ops = {
	/* port life */
	.dev_configure = vireo_dev_configure,
	.dev_infos_get = vireo_dev_infos_get,
	.dev_start = vireo_dev_start,
	.dev_stop = vireo_dev_stop,
	.dev_reset = vireo_dev_reset,
	.dev_close = vireo_dev_close,
	.link_update = vireo_link_update,
	.mtu_set = vireo_mtu_set,
	/* queues */
	.rx_queue_setup = vireo_rx_queue_setup,
	.tx_queue_setup = vireo_tx_queue_setup,
	.rx_queue_release = vireo_rx_queue_release,
	.tx_queue_release = vireo_tx_queue_release,
	.rx_queue_intr_enable = vireo_rx_queue_intr_enable,
	.rx_queue_intr_disable = vireo_rx_queue_intr_disable,
	/* counters */
	.stats_get = vireo_stats_get,
	.xstats_get = vireo_xstats_get,
	.xstats_get_names = vireo_xstats_get_names,
	.stats_reset = vireo_stats_reset,
	.xstats_reset = vireo_stats_reset,
	/* what the device is to accept (control queue) */
	.mac_addr_set = vireo_mac_addr_set,
	.mac_addr_add = vireo_mac_addr_add,
	.mac_addr_remove = vireo_mac_addr_remove,
	.set_mc_addr_list = vireo_set_mc_addr_list,
	.promiscuous_enable = vireo_promiscuous_enable,
	.promiscuous_disable = vireo_promiscuous_disable,
	.allmulticast_enable = vireo_allmulticast_enable,
	.allmulticast_disable = vireo_allmulticast_disable,
	.vlan_filter_set = vireo_vlan_filter_set,
	.vlan_offload_set = vireo_vlan_offload_set,
};

/* A secondary process reads; the device belongs to the primary. */
static int
vireo_link_update_secondary(struct rte_eth_dev *eth_dev __rte_unused,
			    int wait __rte_unused)
{
	return 0;
}

const struct eth_dev_ops vireo_eth_dev_ops_secondary = {
	/* what a secondary may read */
	.stats_get = vireo_stats_get,
	.xstats_get = vireo_xstats_get,
	.xstats_get_names = vireo_xstats_get_names,
	.dev_infos_get = vireo_dev_infos_get,
	.link_update = vireo_link_update_secondary,
};

/*
 * The features a port asks for, from the devargs both transports share:
 * @base (what the transport always wants) plus the ring and Rx buffer
 * choices and, with the control queue, what it carries.
 */
uint64_t
vireo_wanted_features(uint64_t base, bool packed_vq, bool mrg_rxbuf,
		      bool in_order, bool cq)
{
	uint64_t f = base | VIREO_BIT(VIREO_F_VERSION_1) |
		VIREO_BIT(VIREO_F_ANY_LAYOUT) |
		VIREO_BIT(VIREO_F_INDIRECT_DESC) |
		VIREO_BIT(VIREO_NET_F_MAC) |
		VIREO_BIT(VIREO_NET_F_STATUS);

	if (packed_vq)
		f |= VIREO_BIT(VIREO_F_RING_PACKED);
	if (mrg_rxbuf)
		f |= VIREO_BIT(VIREO_NET_F_MRG_RXBUF);
	if (in_order)
		f |= VIREO_BIT(VIREO_F_IN_ORDER);
	if (cq)
		f |= VIREO_BIT(VIREO_NET_F_CTRL_VQ) |
			VIREO_BIT(VIREO_NET_F_CTRL_RX) |
			VIREO_BIT(VIREO_NET_F_CTRL_VLAN) |
			VIREO_BIT(VIREO_NET_F_CTRL_MAC_ADDR) |
			VIREO_BIT(VIREO_NET_F_MQ);
	return f;
}

/*
 * Called by a transport's probe once its device answers: learn what it
 * offers, and set up the ethdev side.  @wanted_features: what the
 * devargs allow (packed, mergeable, in-order, control queue...).
 */
int
vireo_dev_init(struct rte_eth_dev *eth_dev, uint64_t wanted_features)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);
	int ret;

	dev->port_id = eth_dev->data->port_id;
	snprintf(dev->name, sizeof(dev->name), "%s", eth_dev->data->name);
	dev->base_features = wanted_features;
	dev->req_features = wanted_features;
	eth_dev->dev_ops = &vireo_eth_dev_ops;
	vireo_set_stopped_path(eth_dev);

	/* A transport with no device yet (virtio-user waiting for its
	 * backend) answers with what a device is assumed to offer, and
	 * checks the real one against it when it comes. */
	ret = vireo_negotiate(dev);
	if (ret != 0)
		return ret;
	if (dev->mtu == 0)
		dev->mtu = RTE_ETHER_MTU;
	eth_dev->data->mtu = RTE_MIN(dev->mtu, dev->max_mtu ? dev->max_mtu :
				     RTE_ETHER_MTU);
	eth_dev->data->mac_addrs[0] = dev->mac;
	eth_dev->data->dev_flags |= RTE_ETH_DEV_INTR_LSC |
		RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS;
	return 0;
}

/* Drops the transport; the ethdev layer releases the port itself. */
void
vireo_dev_uninit(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = vireo_dev_of(eth_dev);

	dev->features = 0;
	if (dev->ops != NULL && dev->ops->close != NULL)
		dev->ops->close(dev);
	dev->transport = NULL;
}
