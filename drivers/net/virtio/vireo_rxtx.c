/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The path table: which burst functions a started port uses, decided in
 * one place from what was negotiated, and logged.  Also what the data
 * path reports: broken queues, xstats.
 */

/* rte_vect_get_max_simd_bitwidth() is still experimental in 22.11. */
#define ALLOW_EXPERIMENTAL_API

#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cpuflags.h>
#include <rte_vect.h>
#include <ethdev_driver.h>

#include "vireo_log.h"
#include "vireo_rxtx.h"
#include "virtio_user/vhost_user.h"

/* A path: the ring layout, Rx buffer mode and ordering it serves. */
struct vireo_path_entry {
	bool packed;
	bool mergeable;
	bool in_order;
	eth_rx_burst_t rx;
	eth_tx_burst_t tx;
	const char *name;
};

/* The eight paths of one instruction set's unit. */
#define VIREO_PATHS(sfx) { \
	{ false, false, false, vireo_rx_split##sfx, vireo_tx_split##sfx, \
	  "split" }, \
	{ false, true, false, vireo_rx_mrg_split##sfx, vireo_tx_split##sfx, \
	  "split mergeable" }, \
	{ true, false, false, vireo_rx_packed##sfx, vireo_tx_packed##sfx, \
	  "packed" }, \
	{ true, true, false, vireo_rx_mrg_packed##sfx, vireo_tx_packed##sfx, \
	  "packed mergeable" }, \
	{ false, false, true, vireo_rx_split_io##sfx, vireo_tx_split_io##sfx, \
	  "split" }, \
	{ false, true, true, vireo_rx_mrg_split_io##sfx, \
	  vireo_tx_split_io##sfx, "split mergeable" }, \
	{ true, false, true, vireo_rx_packed_io##sfx, vireo_tx_packed_io##sfx, \
	  "packed" }, \
	{ true, true, true, vireo_rx_mrg_packed_io##sfx, \
	  vireo_tx_packed_io##sfx, "packed mergeable" }, \
}

static const struct vireo_path_entry vireo_paths[VIREO_ISA_COUNT][8] = {
	[VIREO_ISA_SCALAR] = VIREO_PATHS(),
#ifdef RTE_ARCH_X86_64
	[VIREO_ISA_SSE] = VIREO_PATHS(_sse),
	[VIREO_ISA_AVX2] = VIREO_PATHS(_avx2),
	[VIREO_ISA_AVX512] = VIREO_PATHS(_avx512),
#endif
};

static const char *const vireo_isa_names[VIREO_ISA_COUNT] = {
	[VIREO_ISA_SCALAR] = "scalar",
	[VIREO_ISA_SSE] = "sse4.2",
	[VIREO_ISA_AVX2] = "avx2",
	[VIREO_ISA_AVX512] = "avx512",
};

static const struct vireo_path_entry *
vireo_path_lookup(const struct vireo_dev *dev)
{
	const struct vireo_path_entry *row = vireo_paths[dev->vec_isa];
	unsigned int i;

	for (i = 0; i < RTE_DIM(vireo_paths[0]); i++)
		if (row[i].packed == dev->packed &&
		    row[i].mergeable == dev->mergeable &&
		    row[i].in_order == dev->in_order)
			return &row[i];
	return &row[0];	/* unreachable: the table is complete */
}

/*
 * The widest vector unit this process may run: allowed by the devargs
 * (vectorized=1; off by default, as DPDK's net_virtio), by EAL's SIMD
 * bit width (--force-max-simd-bitwidth; 256 unless raised), and present
 * on the CPU.  Scalar otherwise.
 */
static enum vireo_isa
vireo_pick_isa(const struct vireo_dev *dev)
{
#ifdef RTE_ARCH_X86_64
	uint16_t width = rte_vect_get_max_simd_bitwidth();

	if (!dev->vectorized_allowed)
		return VIREO_ISA_SCALAR;
	if (width >= RTE_VECT_SIMD_512 &&
	    rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512F) > 0 &&
	    rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512BW) > 0 &&
	    rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512VL) > 0 &&
	    rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX512DQ) > 0)
		return VIREO_ISA_AVX512;
	if (width >= RTE_VECT_SIMD_256 &&
	    rte_cpu_get_flag_enabled(RTE_CPUFLAG_AVX2) > 0)
		return VIREO_ISA_AVX2;
	if (width >= RTE_VECT_SIMD_128 &&
	    rte_cpu_get_flag_enabled(RTE_CPUFLAG_SSE4_2) > 0)
		return VIREO_ISA_SSE;
#else
	RTE_SET_USED(dev);
#endif
	return VIREO_ISA_SCALAR;
}

void
vireo_select_path(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = eth_dev->data->dev_private;
	const struct vireo_path_entry *path;

	dev->vec_isa = vireo_pick_isa(dev);
	path = vireo_path_lookup(dev);
	eth_dev->rx_pkt_burst = path->rx;
	eth_dev->tx_pkt_burst = path->tx;
	eth_dev->tx_pkt_prepare = vireo_tx_prepare;
	VIREO_DRV_LOG(NOTICE, "%s: data path: %s%s, %s (Rx %s, Tx %s)",
		      dev->name, path->name, dev->in_order ? " in-order" : "",
		      vireo_isa_names[dev->vec_isa],
		      dev->mergeable ? "mergeable buffers" : "one mbuf per frame",
		      vireo_has(dev, VIREO_F_INDIRECT_DESC) ?
		      "headroom push, indirect for chains" :
		      "headroom push, chained descriptors");
}

/* A secondary process runs the primary's path (its own copies of the
 * functions: addresses differ between processes). */
void
vireo_path_attach(struct rte_eth_dev *eth_dev)
{
	struct vireo_dev *dev = eth_dev->data->dev_private;
	const struct vireo_path_entry *path = vireo_path_lookup(dev);

	if (!dev->started) {
		vireo_set_stopped_path(eth_dev);
		return;
	}
	eth_dev->rx_pkt_burst = path->rx;
	eth_dev->tx_pkt_burst = path->tx;
	eth_dev->tx_pkt_prepare = vireo_tx_prepare;
}

static uint16_t
vireo_rx_stopped(void *q __rte_unused, struct rte_mbuf **pkts __rte_unused,
		 uint16_t n __rte_unused)
{
	return 0;
}

static uint16_t
vireo_tx_stopped(void *q __rte_unused, struct rte_mbuf **pkts __rte_unused,
		 uint16_t n __rte_unused)
{
	return 0;
}

void
vireo_set_stopped_path(struct rte_eth_dev *eth_dev)
{
	eth_dev->rx_pkt_burst = vireo_rx_stopped;
	eth_dev->tx_pkt_burst = vireo_tx_stopped;
	eth_dev->tx_pkt_prepare = NULL;
}

/* The ring core marked the queue broken; tell the user and let xstats
 * show why.  Called once per break (the ring core reports the code that
 * broke it once); still rate limited, as a device may break a queue
 * again right after each port restart. */
void
vireo_queue_broken(struct vireo_queue *q, int code)
{
	VIREO_DP_LOG(driver, ERR, "%s: queue %u broken: %s (%d); stop and start the port to reset it",
		     q->dev->name, q->index, vireo_vq_strerror(code), code);
}

void
vireo_feature_names(uint64_t features, char *buf, size_t len)
{
	vireo_virtio_net_feature_names(features, buf, len);
}

/* ---- xstats: per queue, the ring state and what the device did wrong ---- */

struct vireo_xstat_ring {
	const char *name;
	uint64_t (*get)(const struct vireo_queue *q);
};

static uint64_t x_free(const struct vireo_queue *q) { return vireo_vq_nfree(&q->vq); }
static uint64_t x_size(const struct vireo_queue *q) { return q->size; }
static uint64_t x_next_avail(const struct vireo_queue *q) { return vireo_vq_next_avail(&q->vq); }
static uint64_t x_last_used(const struct vireo_queue *q) { return vireo_vq_last_used(&q->vq); }
static uint64_t x_avail_wrap(const struct vireo_queue *q) { return vireo_vq_avail_wrap_counter(&q->vq); }
static uint64_t x_used_wrap(const struct vireo_queue *q) { return vireo_vq_used_wrap_counter(&q->vq); }
static uint64_t x_broken(const struct vireo_queue *q) { return q->vq.broken; }
static uint64_t x_broken_reason(const struct vireo_queue *q) { return (uint64_t)-q->vq.broken_reason; }
static uint64_t x_bad_id(const struct vireo_queue *q) { return q->vq.err_count[-VIREO_VQ_EBADID]; }
static uint64_t x_not_posted(const struct vireo_queue *q) { return q->vq.err_count[-VIREO_VQ_ENOTPOSTED]; }
static uint64_t x_bad_len(const struct vireo_queue *q) { return q->vq.err_count[-VIREO_VQ_EBADLEN]; }
static uint64_t x_bad_flags(const struct vireo_queue *q) { return q->vq.err_count[-VIREO_VQ_EBADFLAGS]; }
static uint64_t x_bad_idx(const struct vireo_queue *q) { return q->vq.err_count[-VIREO_VQ_EBADIDX]; }
static uint64_t x_bad_order(const struct vireo_queue *q) { return q->vq.err_count[-VIREO_VQ_EORDER]; }

static const struct vireo_xstat_ring vireo_xstats_ring[] = {
	{ "ring_size", x_size },
	{ "ring_free", x_free },
	{ "ring_next_avail", x_next_avail },
	{ "ring_last_used", x_last_used },
	{ "ring_avail_wrap", x_avail_wrap },
	{ "ring_used_wrap", x_used_wrap },
	{ "ring_broken", x_broken },
	{ "ring_broken_reason", x_broken_reason },
	{ "dev_err_bad_id", x_bad_id },
	{ "dev_err_id_not_posted", x_not_posted },
	{ "dev_err_bad_len", x_bad_len },
	{ "dev_err_bad_flags", x_bad_flags },
	{ "dev_err_bad_used_idx", x_bad_idx },
	{ "dev_err_out_of_order", x_bad_order },
};

/* Counters of the queue structs beyond what ethdev autofills. */
#define VIREO_XSTATS_QUEUE_COUNTERS 2	/* kicks, nombuf or errors */

static unsigned int
vireo_xstats_count(const struct rte_eth_dev *eth_dev)
{
	return (eth_dev->data->nb_rx_queues + eth_dev->data->nb_tx_queues) *
		(RTE_DIM(vireo_xstats_ring) + VIREO_XSTATS_QUEUE_COUNTERS);
}

int
vireo_xstats_get_names(struct rte_eth_dev *eth_dev,
		       struct rte_eth_xstat_name *names, unsigned int n)
{
	unsigned int count = vireo_xstats_count(eth_dev);
	unsigned int k = 0, i, j;
	uint16_t qid;

	if (names == NULL || n < count)
		return count;
	for (i = 0; i < 2; i++) {
		const char *dir = i == 0 ? "rx" : "tx";
		uint16_t nbq = i == 0 ? eth_dev->data->nb_rx_queues :
			eth_dev->data->nb_tx_queues;

		for (qid = 0; qid < nbq; qid++) {
			snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE,
				 "%s_q%u_kicks", dir, qid);
			snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE,
				 "%s_q%u_%s", dir, qid,
				 i == 0 ? "nombuf" : "dropped");
			for (j = 0; j < RTE_DIM(vireo_xstats_ring); j++)
				snprintf(names[k++].name,
					 RTE_ETH_XSTATS_NAME_SIZE, "%s_q%u_%s",
					 dir, qid, vireo_xstats_ring[j].name);
		}
	}
	return k;
}

int
vireo_xstats_get(struct rte_eth_dev *eth_dev, struct rte_eth_xstat *xstats,
		 unsigned int n)
{
	unsigned int count = vireo_xstats_count(eth_dev);
	unsigned int k = 0, i, j;
	uint16_t qid;

	if (xstats == NULL || n < count)
		return count;
	for (i = 0; i < 2; i++) {
		uint16_t nbq = i == 0 ? eth_dev->data->nb_rx_queues :
			eth_dev->data->nb_tx_queues;

		for (qid = 0; qid < nbq; qid++) {
			const struct vireo_queue *q = NULL;
			const struct vireo_queue_stats *st = NULL;

			if (i == 0 && eth_dev->data->rx_queues[qid] != NULL) {
				const struct vireo_rxq *rxq =
					eth_dev->data->rx_queues[qid];

				q = &rxq->q;
				st = &rxq->stats;
			} else if (i == 1 &&
				   eth_dev->data->tx_queues[qid] != NULL) {
				const struct vireo_txq *txq =
					eth_dev->data->tx_queues[qid];

				q = &txq->q;
				st = &txq->stats;
			}
			xstats[k].id = k;
			xstats[k++].value = st ? st->kicks : 0;
			xstats[k].id = k;
			xstats[k++].value = st ? (i == 0 ? st->nombuf :
						  st->errors) : 0;
			for (j = 0; j < RTE_DIM(vireo_xstats_ring); j++) {
				xstats[k].id = k;
				xstats[k++].value = q ?
					vireo_xstats_ring[j].get(q) : 0;
			}
		}
	}
	return k;
}
