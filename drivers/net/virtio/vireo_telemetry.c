/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Telemetry commands under /vireo/, read with stock dpdk-telemetry.py:
 *
 *   /vireo/ports                  our port ids
 *   /vireo/rings,<port>           the ring state of every queue of a port
 *   /vireo/ring,<port>,<index>    the same for one queue (virtio index)
 *   /vireo/dump,<port>,<index>    the ring core's vireo_vq_dump, by line
 *
 * Queue indexes are virtio's (5.1.2): Rx queue i is 2i, Tx queue i is
 * 2i+1, the control queue comes after the last pair.
 *
 * The callbacks run on EAL's telemetry thread while lcores poll the
 * queues: they only read, and what they show is a snapshot that may mix
 * fields from two moments, as xstats read from another thread do.
 */

/* rte_telemetry_register_cmd was experimental before 23.03; marking it
 * so here, before any include, keeps this file building on either. */
#define ALLOW_EXPERIMENTAL_API 1

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_telemetry.h>
#include <ethdev_driver.h>

#include "vireo_dev.h"
#include "vireo_log.h"
#include "vring.h"

/* The dump is a few hundred bytes; this leaves room for any layout. */
#define VIREO_TEL_DUMP_LEN	4096

/* A port is ours when its ops are; no other registry is needed, and a
 * port closed since is no longer valid in ethdev. */
static struct rte_eth_dev *
vireo_tel_port(uint16_t port_id)
{
	struct rte_eth_dev *eth_dev;

	if (!rte_eth_dev_is_valid_port(port_id))
		return NULL;
	eth_dev = &rte_eth_devices[port_id];
	if (eth_dev->dev_ops != &vireo_eth_dev_ops &&
	    eth_dev->dev_ops != &vireo_eth_dev_ops_secondary)
		return NULL;
	if (eth_dev->data == NULL || eth_dev->data->dev_private == NULL)
		return NULL;
	return eth_dev;
}

/* Parses "<n>" or "<n>,<m>" strictly: digits only, within uint16. */
static int
vireo_tel_params(const char *params, uint16_t *vals, unsigned int want)
{
	const char *p = params;
	unsigned int i;
	unsigned long v;
	char *end;

	if (p == NULL)
		return -EINVAL;
	for (i = 0; i < want; i++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno != 0 || v > UINT16_MAX)
			return -EINVAL;
		vals[i] = (uint16_t)v;
		p = end;
		if (i + 1 < want) {
			if (*p != ',')
				return -EINVAL;
			p++;
		}
	}
	return *p == '\0' ? 0 : -EINVAL;
}

/* The queue with virtio index 'index' of a port, or NULL. */
static const struct vireo_queue *
vireo_tel_queue(const struct rte_eth_dev *eth_dev, uint16_t index)
{
	const struct vireo_dev *dev = eth_dev->data->dev_private;
	uint16_t qid = index / 2;

	if (dev->cvq != NULL && index == dev->cvq->q.index)
		return &dev->cvq->q;
	if (index % 2 == 0 && qid < eth_dev->data->nb_rx_queues &&
	    eth_dev->data->rx_queues[qid] != NULL)
		return &((const struct vireo_rxq *)
			 eth_dev->data->rx_queues[qid])->q;
	if (index % 2 == 1 && qid < eth_dev->data->nb_tx_queues &&
	    eth_dev->data->tx_queues[qid] != NULL)
		return &((const struct vireo_txq *)
			 eth_dev->data->tx_queues[qid])->q;
	return NULL;
}

static const char *
vireo_tel_role(uint8_t kind)
{
	switch (kind) {
	case VIREO_QUEUE_RX: return "rx";
	case VIREO_QUEUE_TX: return "tx";
	case VIREO_QUEUE_CTRL: return "ctrl";
	default: return "unknown";
	}
}

static const char *
vireo_tel_packed_mode(const struct vireo_packed_event *ev)
{
	switch (VIREO_READ_ONCE(ev->flags)) {
	case VIRTQ_EVENT_F_ENABLE: return "enable";
	case VIRTQ_EVENT_F_DISABLE: return "disable";
	case VIRTQ_EVENT_F_DESC: return "desc";
	default: return "invalid";
	}
}

/* Split: with EVENT_IDX the peer reads the event index, not the flag,
 * but the ring core sets the flag as well, so it tells on or off. */
static const char *
vireo_tel_split_mode(const uint16_t *flags_word, bool event_idx)
{
	if (VIREO_READ_ONCE(*flags_word) & 1)
		return "disable";
	return event_idx ? "event_idx" : "enable";
}

/* One queue's state as a dict; the names match the xstats ring_* ones
 * where both exist, so a reader can compare them. */
static int
vireo_tel_queue_dict(struct rte_tel_data *d, const struct vireo_queue *q)
{
	const struct vireo_vq *vq = &q->vq;
	bool event_idx = (vq->options & VIREO_VQ_OPT_EVENT_IDX) != 0;
	bool split = vq->layout == VIREO_VQ_SPLIT;

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "index", q->index);
	rte_tel_data_add_dict_string(d, "role", vireo_tel_role(q->kind));
	rte_tel_data_add_dict_string(d, "layout", split ? "split" : "packed");
	rte_tel_data_add_dict_u64(d, "size", vq->size);
	rte_tel_data_add_dict_u64(d, "free", vireo_vq_nfree(vq));
	rte_tel_data_add_dict_u64(d, "in_flight", vq->in_flight);
	rte_tel_data_add_dict_u64(d, "next_avail", vireo_vq_next_avail(vq));
	rte_tel_data_add_dict_u64(d, "last_used", vireo_vq_last_used(vq));
	rte_tel_data_add_dict_int(d, "avail_wrap",
				  vireo_vq_avail_wrap_counter(vq));
	rte_tel_data_add_dict_int(d, "used_wrap",
				  vireo_vq_used_wrap_counter(vq));
	rte_tel_data_add_dict_int(d, "event_idx", event_idx);
	rte_tel_data_add_dict_int(d, "indirect",
				  (vq->options & VIREO_VQ_OPT_INDIRECT) != 0);
	rte_tel_data_add_dict_int(d, "in_order",
				  (vq->options & VIREO_VQ_OPT_IN_ORDER) != 0);
	/* No ring memory yet (never set up): no suppression areas to read. */
	if (vq->ring_mem == NULL) {
		rte_tel_data_add_dict_string(d, "event_mode", "none");
		rte_tel_data_add_dict_string(d, "device_event_mode", "none");
	} else if (split) {
		/* ours asks the device for interrupts, the device's for kicks */
		rte_tel_data_add_dict_string(d, "event_mode",
			vireo_tel_split_mode(&vq->split.ring.avail->flags,
					     event_idx));
		rte_tel_data_add_dict_string(d, "device_event_mode",
			vireo_tel_split_mode(&vq->split.ring.used->flags,
					     event_idx));
	} else {
		rte_tel_data_add_dict_string(d, "event_mode",
			vireo_tel_packed_mode(vq->packed.ring.driver_event));
		rte_tel_data_add_dict_string(d, "device_event_mode",
			vireo_tel_packed_mode(vq->packed.ring.device_event));
	}
	rte_tel_data_add_dict_int(d, "broken", vq->broken);
	rte_tel_data_add_dict_int(d, "broken_reason",
				  vq->broken ? -vq->broken_reason : 0);
	rte_tel_data_add_dict_string(d, "broken_reason_str",
		vq->broken ? vireo_vq_strerror(vq->broken_reason) : "none");
	return 0;
}

static int
vireo_tel_ports(const char *cmd __rte_unused, const char *params,
		struct rte_tel_data *d)
{
	uint16_t port_id;

	if (params != NULL && params[0] != '\0')
		return -EINVAL;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	RTE_ETH_FOREACH_DEV(port_id)
		if (vireo_tel_port(port_id) != NULL)
			rte_tel_data_add_array_int(d, port_id);
	return 0;
}

/* Adds one queue's dict to 'd' under 'name'; the container is freed by
 * telemetry once written (keep = 0). */
static int
vireo_tel_add_queue(struct rte_tel_data *d, const char *name,
		    const struct vireo_queue *q)
{
	struct rte_tel_data *qd = rte_tel_data_alloc();

	if (qd == NULL)
		return -ENOMEM;
	vireo_tel_queue_dict(qd, q);
	if (rte_tel_data_add_dict_container(d, name, qd, 0) != 0) {
		rte_tel_data_free(qd);
		return -ENOSPC;
	}
	return 0;
}

static int
vireo_tel_rings(const char *cmd __rte_unused, const char *params,
		struct rte_tel_data *d)
{
	const struct rte_eth_dev *eth_dev;
	const struct vireo_dev *dev;
	const struct vireo_queue *q;
	char name[32];
	uint16_t port_id, qid;
	int ret;

	if (vireo_tel_params(params, &port_id, 1) != 0)
		return -EINVAL;
	eth_dev = vireo_tel_port(port_id);
	if (eth_dev == NULL)
		return -EINVAL;
	dev = eth_dev->data->dev_private;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "port", port_id);
	rte_tel_data_add_dict_string(d, "name", dev->name);
	rte_tel_data_add_dict_string(d, "layout",
				     dev->packed ? "packed" : "split");
	rte_tel_data_add_dict_int(d, "started", dev->started);
	rte_tel_data_add_dict_int(d, "nb_rx_queues",
				  eth_dev->data->nb_rx_queues);
	rte_tel_data_add_dict_int(d, "nb_tx_queues",
				  eth_dev->data->nb_tx_queues);
	/* Keys by role and ethdev queue id, the way xstats name them;
	 * a queue not set up is left out.  Telemetry's 16 KiB reply holds
	 * some 40 queues: past that, ask /vireo/ring per queue. */
	for (qid = 0; qid < eth_dev->data->nb_rx_queues; qid++) {
		q = vireo_tel_queue(eth_dev, 2 * qid);
		if (q == NULL)
			continue;
		snprintf(name, sizeof(name), "rx_q%u", qid);
		ret = vireo_tel_add_queue(d, name, q);
		if (ret != 0)
			return ret;
	}
	for (qid = 0; qid < eth_dev->data->nb_tx_queues; qid++) {
		q = vireo_tel_queue(eth_dev, 2 * qid + 1);
		if (q == NULL)
			continue;
		snprintf(name, sizeof(name), "tx_q%u", qid);
		ret = vireo_tel_add_queue(d, name, q);
		if (ret != 0)
			return ret;
	}
	if (dev->cvq != NULL)
		return vireo_tel_add_queue(d, "ctrl", &dev->cvq->q);
	return 0;
}

static int
vireo_tel_ring(const char *cmd __rte_unused, const char *params,
	       struct rte_tel_data *d)
{
	const struct rte_eth_dev *eth_dev;
	const struct vireo_queue *q;
	uint16_t v[2];

	if (vireo_tel_params(params, v, 2) != 0)
		return -EINVAL;
	eth_dev = vireo_tel_port(v[0]);
	if (eth_dev == NULL)
		return -EINVAL;
	q = vireo_tel_queue(eth_dev, v[1]);
	if (q == NULL)
		return -EINVAL;
	return vireo_tel_queue_dict(d, q);
}

/* The dump as an array of lines: a telemetry string holds 128 bytes
 * and JSON shows a list of lines better than one escaped blob. */
static int
vireo_tel_dump(const char *cmd __rte_unused, const char *params,
	       struct rte_tel_data *d)
{
	const struct rte_eth_dev *eth_dev;
	const struct vireo_queue *q;
	char *buf, *line, *save = NULL;
	uint16_t v[2];

	if (vireo_tel_params(params, v, 2) != 0)
		return -EINVAL;
	eth_dev = vireo_tel_port(v[0]);
	if (eth_dev == NULL)
		return -EINVAL;
	q = vireo_tel_queue(eth_dev, v[1]);
	if (q == NULL || q->vq.ring_mem == NULL)
		return -EINVAL;
	/* malloc, not the stack: the telemetry thread's stack is libc's
	 * default, and not EAL memory: nothing here is shared. */
	buf = malloc(VIREO_TEL_DUMP_LEN);
	if (buf == NULL)
		return -ENOMEM;
	vireo_vq_dump(&q->vq, buf, VIREO_TEL_DUMP_LEN);
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		rte_tel_data_add_array_string(d, line);
	free(buf);
	return 0;
}

/* The commands, their handlers and help; a help text must stay under
 * RTE_TEL_MAX_STRING_LEN or telemetry refuses the command. */
static const struct {
	const char *cmd;
	telemetry_cb fn;
	const char *help;
} vireo_tel_cmds[] = {
	{ "/vireo/ports", vireo_tel_ports,
	  "Returns the ids of the Vireo ports. Takes no parameters" },
	{ "/vireo/rings", vireo_tel_rings,
	  "Returns the ring state of every queue of a Vireo port. Parameters: int port_id" },
	{ "/vireo/ring", vireo_tel_ring,
	  "Returns one queue's ring state. Parameters: int port_id, int virtio queue index" },
	{ "/vireo/dump", vireo_tel_dump,
	  "Returns the ring dump of one queue. Parameters: int port_id, int virtio queue index" },
};

/* Registered at load, before EAL starts the telemetry thread, as
 * ethdev registers its own commands. */
RTE_INIT(vireo_telemetry_init)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(vireo_tel_cmds); i++)
		if (rte_telemetry_register_cmd(vireo_tel_cmds[i].cmd,
					       vireo_tel_cmds[i].fn,
					       vireo_tel_cmds[i].help) != 0)
			VIREO_INIT_LOG(WARNING, "cannot register telemetry command %s",
				       vireo_tel_cmds[i].cmd);
}
