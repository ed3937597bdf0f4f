/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The objects of a Vireo port: the device (ethdev private data), and its
 * queues, each wrapping one ring-core virtqueue.
 */

#ifndef VIREO_DEV_H
#define VIREO_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_spinlock.h>
#include <ethdev_driver.h>

#include "vring.h"
#include "vireo_net.h"
#include "vireo_transport.h"

#define VIREO_MAX_QUEUE_PAIRS		128
#define VIREO_MAX_MAC_ADDRS		64
#define VIREO_MAX_VLAN			4096
#define VIREO_RX_BURST_MAX		64
/* Longest mbuf chain one Tx packet may use without indirect descriptors. */
#define VIREO_TX_MAX_SEGS		64
#define VIREO_MIN_RX_BUF		64

/* Queue roles, by virtio-net queue index (5.1.2). */
enum vireo_queue_kind {
	VIREO_QUEUE_RX,
	VIREO_QUEUE_TX,
	VIREO_QUEUE_CTRL,
};

/* How a queue tells the device there is work: set by the transport. */
typedef void (*vireo_notify_t)(struct vireo_queue *q);

/* Common to every queue of a port. */
struct vireo_queue {
	struct vireo_vq vq;		/* ring core state; hot */
	vireo_notify_t notify;		/* transport's kick */
	int kick_fd;			/* virtio-user: eventfd we write */
	volatile uint16_t *notify_addr;	/* virtio-pci: doorbell */
	uint16_t index;			/* virtio queue index */
	uint16_t size;			/* descriptors */
	uint8_t kind;			/* enum vireo_queue_kind */
	bool started;			/* rings handed to the device */
	uint32_t device_gen;		/* bumped when a (new) device gets the ring */
	uint16_t handover_pos;		/* where that device's first used entry
					 * goes (vireo_vq_used_position) */
	struct vireo_dev *dev;
	const struct rte_memzone *ring_mz;
	uint64_t ring_iova;		/* address the device uses for the ring */
	struct vireo_vq_slot *slots;
	int socket_id;
};

struct vireo_queue_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t errors;
	uint64_t nombuf;		/* Rx: refill found the pool empty */
	uint64_t kicks;			/* notifications sent */
	uint64_t broken_events;		/* times the ring was found broken */
};

struct vireo_rxq {
	struct vireo_queue q;
	struct rte_mempool *mp;
	uint16_t port_id;
	uint16_t queue_id;
	uint16_t hdr_size;		/* bytes of virtio-net header */
	uint16_t addr_offset;		/* mbuf field with the device address */
	uint32_t buf_len;		/* bytes posted per buffer */
	/* Where every buffer of the pool starts, from its mbuf, when that
	 * is also its device address (0: read the mbuf's fields). */
	uint32_t buf_offset;
	uint64_t mbuf_rearm;		/* data_off, refcnt, nb_segs, port */
	bool mergeable;
	bool csum_offload;		/* report Rx checksum flags */
	bool lro;			/* report GSO from the header */
	bool vlan_strip;		/* strip the VLAN tag in software */
	/* A mergeable packet whose buffers have not all arrived. */
	struct rte_mbuf *partial_head;
	struct rte_mbuf *partial_tail;
	uint16_t partial_left;		/* buffers still to come */
	bool partial_old;		/* begun before a hand-over not yet met */
	/* A hand-over (q.device_gen moved) whose first new used entry the
	 * data path has not reached yet, at q.handover_pos. */
	uint32_t seen_gen;
	uint16_t boundary;
	bool boundary_pending;
	struct vireo_queue_stats stats;
};

struct vireo_txq {
	struct vireo_queue q;
	uint16_t port_id;
	uint16_t queue_id;
	uint16_t hdr_size;
	uint16_t addr_offset;
	uint16_t free_thresh;		/* reclaim when fewer descriptors free */
	bool offload;			/* fill checksum/TSO in the header */
	bool use_indirect;
	bool fast_free;			/* MBUF_FAST_FREE: one pool, refcnt 1 */
	/* Headers of packets that cannot carry theirs in the headroom, and
	 * indirect tables: one entry per buffer id. */
	const struct rte_memzone *hdr_mz;
	struct vireo_tx_slot_mem *slot_mem;
	uint64_t slot_mem_iova;
	struct vireo_queue_stats stats;
};

/* Per buffer id of a Tx queue, in device-visible memory. */
struct vireo_tx_slot_mem {
	struct vireo_net_hdr hdr;
	uint8_t pad[4];
	struct vireo_packed_desc indirect[VIREO_TX_MAX_SEGS + 1];
} __rte_aligned(16);

/* The control queue and what serialises its users. */
struct vireo_cvq {
	struct vireo_queue q;
	rte_spinlock_t lock;
	const struct rte_memzone *buf_mz;	/* command + status buffer */
	uint8_t *buf;
	uint64_t buf_iova;
	uint32_t timeout_ms;
};

/* What dev_start chose from the negotiated features; logged once. */
struct vireo_path {
	const char *name;
	eth_rx_burst_t rx;
	eth_tx_burst_t tx;
};

/* ethdev private data of a Vireo port (shared with secondaries). */
struct vireo_dev {
	const struct vireo_transport_ops *ops;
	void *transport;		/* the transport's own state */
	uint16_t port_id;
	uint64_t host_features;		/* offered by the device */
	uint64_t base_features;		/* what the devargs allow */
	uint64_t req_features;		/* base + what the offloads need */
	uint64_t features;		/* negotiated */
	uint16_t max_queue_pairs;	/* the device's */
	uint16_t nb_queue_pairs;	/* in use */
	uint16_t queue_size;		/* requested by devargs; 0: device max */
	uint16_t hdr_size;
	uint16_t mtu;
	uint16_t max_mtu;
	uint32_t speed;
	bool packed;
	bool in_order;
	bool mergeable;
	bool vectorized_allowed;
	uint8_t vec_isa;		/* enum vireo_isa of the running path */
	bool has_cvq;
	bool started;
	bool link_up;
	bool use_va;			/* descriptors carry virtual addresses */
	bool mac_from_devargs;		/* keep dev->mac over the device's */
	bool intr_handle_ours;		/* we allocated eth_dev->intr_handle */
	struct vireo_cvq *cvq;
	struct vireo_path rx_path;
	struct vireo_path tx_path;
	struct rte_ether_addr mac;
	/* Filters we told the device, to replay after a reset. */
	uint32_t mc_count;		/* set_mc_addr_list, in MAC_TABLE_SET */
	struct rte_ether_addr mc_table[VIREO_MAX_MAC_ADDRS];
	uint64_t vlan_bitmap[VIREO_MAX_VLAN / 64];
	bool promisc;
	bool allmulti;
	char name[RTE_ETH_NAME_MAX_LEN];
};

static inline bool
vireo_has(const struct vireo_dev *dev, unsigned int bit)
{
	return (dev->features & VIREO_BIT(bit)) != 0;
}

/* The device address of an mbuf's buffer: buf_addr (virtio-user) or
 * buf_iova (a real device), chosen once at queue setup. */
static inline uint64_t
vireo_mbuf_dev_addr(const struct rte_mbuf *m, uint16_t addr_offset)
{
	return *(const uint64_t *)((const uint8_t *)m + addr_offset);
}

/* The virtual address of a posted Rx buffer: computed from the mbuf
 * when rxq->buf_offset allows (saves loading a cold line), else read. */
static __rte_always_inline char *
vireo_rx_buf_va(const struct rte_mbuf *m, uint32_t buf_offset)
{
	if (likely(buf_offset != 0))
		return (char *)(uintptr_t)m + buf_offset;
	return m->buf_addr;
}

/* The device address of a fresh Rx buffer, by the same rule. */
static __rte_always_inline uint64_t
vireo_rx_buf_dev_addr(const struct rte_mbuf *m, uint32_t buf_offset,
		      uint16_t addr_offset)
{
	if (likely(buf_offset != 0))
		return (uint64_t)(uintptr_t)m + buf_offset;
	return vireo_mbuf_dev_addr(m, addr_offset);
}

/* vireo_ethdev.c */
extern const struct eth_dev_ops vireo_eth_dev_ops;
extern const struct eth_dev_ops vireo_eth_dev_ops_secondary;
int vireo_dev_init(struct rte_eth_dev *eth_dev, uint64_t wanted_features);
uint64_t vireo_wanted_features(uint64_t base, bool packed_vq, bool mrg_rxbuf,
			       bool in_order, bool cq);
void vireo_dev_uninit(struct rte_eth_dev *eth_dev);
void vireo_dev_link_changed(struct rte_eth_dev *eth_dev);

/* vireo_cvq.c */
int vireo_cvq_command(struct vireo_dev *dev, uint8_t class, uint8_t cmd,
		      const void *data, size_t len);

#endif /* VIREO_DEV_H */
