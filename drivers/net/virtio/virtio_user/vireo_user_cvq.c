/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The control queue of the emulated device: vhost-user backends have
 * none, so its commands are run here, with the ring core's device role
 * over the same ring the driver wrote.  Queue pair changes become
 * SET_VRING_ENABLE messages; Rx filters are accepted (a vhost-user
 * backend delivers every frame, which is what promiscuous asks).
 */

#include <string.h>

#include <rte_common.h>

#include "../vireo_log.h"
#include "vireo_user.h"

#define VIREO_USER_CVQ_SEGS 8

/* Runs one command; the answer is VIREO_NET_OK or VIREO_NET_ERR. */
static uint8_t
vireo_user_ctrl_run(struct vireo_user *vu, const struct vireo_net_ctrl_hdr *hdr,
		    const uint8_t *data, uint32_t len)
{
	uint16_t pairs;

	switch (hdr->class) {
	case VIREO_NET_CTRL_MQ:
		if (hdr->cmd != VIREO_NET_CTRL_MQ_VQ_PAIRS_SET ||
		    len < sizeof(pairs))
			return VIREO_NET_ERR;
		memcpy(&pairs, data, sizeof(pairs));
		if (pairs < VIREO_NET_CTRL_MQ_VQ_PAIRS_MIN ||
		    pairs > vu->devargs.queue_pairs)
			return VIREO_NET_ERR;
		VIREO_CVQ_LOG(INFO, "%s: %u queue pairs enabled",
			      vu->devargs.path, pairs);
		return vireo_user_enable_pairs(vu, pairs) == 0 ?
			VIREO_NET_OK : VIREO_NET_ERR;
	case VIREO_NET_CTRL_RX:
		if (hdr->cmd > VIREO_NET_CTRL_RX_ALLMULTI || len < 1)
			return VIREO_NET_ERR;
		VIREO_CVQ_LOG(DEBUG, "%s: %s %s", vu->devargs.path,
			      hdr->cmd == VIREO_NET_CTRL_RX_PROMISC ?
			      "promiscuous" : "all-multicast",
			      data[0] ? "on" : "off");
		return VIREO_NET_OK;
	case VIREO_NET_CTRL_MAC:
		if (hdr->cmd == VIREO_NET_CTRL_MAC_ADDR_SET) {
			if (len != RTE_ETHER_ADDR_LEN)
				return VIREO_NET_ERR;
			memcpy(vu->config.mac, data, RTE_ETHER_ADDR_LEN);
			return VIREO_NET_OK;
		}
		return hdr->cmd == VIREO_NET_CTRL_MAC_TABLE_SET ?
			VIREO_NET_OK : VIREO_NET_ERR;
	case VIREO_NET_CTRL_VLAN:
		return hdr->cmd <= VIREO_NET_CTRL_VLAN_DEL && len >= 2 ?
			VIREO_NET_OK : VIREO_NET_ERR;
	default:
		VIREO_CVQ_LOG(INFO, "%s: control class %u not supported",
			      vu->devargs.path, hdr->class);
		return VIREO_NET_ERR;
	}
}

int
vireo_user_ctrl_handle(struct vireo_dev *dev, struct vireo_queue *cvq __rte_unused)
{
	struct vireo_user *vu = dev->transport;
	struct vireo_seg segs[VIREO_USER_CVQ_SEGS];
	struct vireo_vq_dev_chain chain;
	uint8_t cmd[2 + 1024];
	uint32_t cmd_len, i;
	uint8_t *ack;
	int rc;

	if (!vu->cvq_dev_ready)
		return -EINVAL;
	while ((rc = vireo_vq_dev_pop(&vu->cvq_dev, &chain, segs,
				      RTE_DIM(segs))) > 0) {
		/* Readable segments first, the writable ack byte last; we
		 * wrote the chain ourselves, but check it as a device must. */
		cmd_len = 0;
		ack = NULL;
		for (i = 0; i < chain.nsegs; i++) {
			void *p = vireo_vq_dev_map(&vu->cvq_dev, segs[i].addr,
						   segs[i].len);

			if (segs[i].write) {
				if (segs[i].len >= 1)
					ack = p;
				continue;
			}
			if (cmd_len + segs[i].len > sizeof(cmd))
				break;
			memcpy(cmd + cmd_len, p, segs[i].len);
			cmd_len += segs[i].len;
		}
		if (ack != NULL) {
			if (i == chain.nsegs && cmd_len >= 2)
				*ack = vireo_user_ctrl_run(vu,
					(const struct vireo_net_ctrl_hdr *)cmd,
					cmd + 2, cmd_len - 2);
			else
				*ack = VIREO_NET_ERR;
		}
		vireo_vq_dev_push(&vu->cvq_dev, chain.id, ack ? 1 : 0,
				  chain.ndesc);
		vireo_vq_dev_publish(&vu->cvq_dev);
	}
	if (rc < 0) {
		VIREO_CVQ_LOG(ERR, "%s: bad control queue chain: %s",
			      vu->devargs.path, vireo_vq_strerror(rc));
		return -EIO;
	}
	return 0;
}
