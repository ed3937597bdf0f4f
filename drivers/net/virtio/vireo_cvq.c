/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * Control queue, driver side (5.1.6.5): one command at a time, written
 * as [class, cmd] + data (device-readable) + ack byte (device-writable),
 * then waited for with a timeout.  The same code serves both layouts:
 * the ring core does the layout work.
 */

#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "vireo_dev.h"
#include "vireo_log.h"
#include "vireo_rxtx.h"

#define VIREO_CVQ_MAX_DATA 1024

/* Gives back completions a timed-out command left behind. */
static void
vireo_cvq_drain(struct vireo_cvq *cvq)
{
	void *cookie;
	uint32_t len;

	while (vireo_vq_get_used(&cvq->q.vq, &cookie, &len) > 0)
		;
}

int
vireo_cvq_command(struct vireo_dev *dev, uint8_t class, uint8_t cmd,
		  const void *data, size_t len)
{
	struct vireo_cvq *cvq = dev->cvq;
	struct vireo_buf bufs[3];
	const size_t ack_off = RTE_ALIGN_CEIL(sizeof(struct vireo_net_ctrl_hdr) +
					      VIREO_CVQ_MAX_DATA, 8);
	uint64_t deadline;
	uint16_t nr = 0;
	void *cookie;
	uint32_t written = 0;
	uint8_t ack;
	int ret;

	if (cvq == NULL || !dev->started)
		return -ENOTSUP;
	if (len > VIREO_CVQ_MAX_DATA)
		return -EINVAL;

	rte_spinlock_lock(&cvq->lock);
	vireo_cvq_drain(cvq);
	if (cvq->q.vq.broken) {
		VIREO_CVQ_LOG(ERR, "%s: control queue broken: %s", dev->name,
			      vireo_vq_strerror(cvq->q.vq.broken_reason));
		ret = -EIO;
		goto out;
	}

	cvq->buf[0] = class;
	cvq->buf[1] = cmd;
	if (len > 0)
		memcpy(cvq->buf + sizeof(struct vireo_net_ctrl_hdr), data, len);
	cvq->buf[ack_off] = VIREO_NET_ERR;
	bufs[nr].addr = cvq->buf_iova;
	bufs[nr++].len = sizeof(struct vireo_net_ctrl_hdr);
	if (len > 0) {
		bufs[nr].addr = cvq->buf_iova + sizeof(struct vireo_net_ctrl_hdr);
		bufs[nr++].len = len;
	}
	bufs[nr].addr = cvq->buf_iova + ack_off;
	bufs[nr++].len = 1;
	ret = vireo_vq_add(&cvq->q.vq, bufs, nr - 1, 1, cvq);
	if (ret != 0) {
		VIREO_CVQ_LOG(ERR, "%s: cannot queue command %u/%u: %s",
			      dev->name, class, cmd, vireo_vq_strerror(ret));
		ret = -EIO;
		goto out;
	}
	vireo_vq_publish(&cvq->q.vq);
	/* virtio-user runs the command here, in the caller's context. */
	if (dev->ops->ctrl_handle != NULL)
		dev->ops->ctrl_handle(dev, &cvq->q);
	else if (vireo_vq_kick_prepare(&cvq->q.vq) > 0)
		cvq->q.notify(&cvq->q);

	deadline = rte_get_timer_cycles() +
		rte_get_timer_hz() * cvq->timeout_ms / 1000;
	for (;;) {
		ret = vireo_vq_get_used(&cvq->q.vq, &cookie, &written);
		if (ret > 0)
			break;
		if (ret < 0) {
			VIREO_CVQ_LOG(ERR, "%s: control queue: device error: %s",
				      dev->name, vireo_vq_strerror(ret));
			ret = -EIO;
			goto out;
		}
		if (rte_get_timer_cycles() > deadline) {
			VIREO_CVQ_LOG(ERR, "%s: command class %u cmd %u: no answer in %u ms",
				      dev->name, class, cmd, cvq->timeout_ms);
			ret = -ETIMEDOUT;
			goto out;
		}
		rte_delay_us_sleep(10);
	}
	ack = cvq->buf[ack_off];
	if (written < 1 || ack != VIREO_NET_OK) {
		VIREO_CVQ_LOG(ERR, "%s: device refused command class %u cmd %u",
			      dev->name, class, cmd);
		ret = -EIO;
	} else {
		VIREO_CVQ_LOG(DEBUG, "%s: command class %u cmd %u done",
			      dev->name, class, cmd);
		ret = 0;
	}
out:
	rte_spinlock_unlock(&cvq->lock);
	return ret;
}
