/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * A readable, deterministic snapshot of a driver vq for debug logs and
 * telemetry. Reads the shared areas once each; never changes anything.
 */

#include <stdarg.h>

#include "vring.h"

/* Output buffer that truncates but keeps counting, like snprintf. */
struct vireo_dump_out {
	char *buf;
	size_t len;
	size_t used;
};

__attribute__((format(printf, 2, 3)))
static void
vireo_dump_put(struct vireo_dump_out *o, const char *fmt, ...)
{
	size_t room = o->used < o->len ? o->len - o->used : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->used : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += n;
}

static const char *
vireo_event_mode_name(uint16_t flags)
{
	switch (flags) {
	case VIRTQ_EVENT_F_ENABLE: return "enable";
	case VIRTQ_EVENT_F_DISABLE: return "disable";
	case VIRTQ_EVENT_F_DESC: return "desc";
	default: return "invalid";
	}
}

static void
vireo_dump_event(struct vireo_dump_out *o, const char *name,
		 const struct vireo_packed_event *ev)
{
	uint16_t flags = VIREO_READ_ONCE(ev->flags);
	uint16_t off_wrap = VIREO_READ_ONCE(ev->off_wrap);

	vireo_dump_put(o, "  %s: %s off=%u wrap=%u\n", name,
		       vireo_event_mode_name(flags),
		       off_wrap & VIRTQ_EVENT_OFF_MASK,
		       off_wrap >> VIRTQ_EVENT_WRAP_SHIFT);
}

/* Descriptor flags as letters: N(ext) W(rite) I(ndirect) A(vail) U(sed). */
static void
vireo_dump_desc(struct vireo_dump_out *o, uint16_t slot, uint64_t addr,
		uint32_t len, uint16_t flags, const char *link, uint16_t value)
{
	vireo_dump_put(o, "  desc[%u] addr=0x%llx len=%u flags=%c%c%c%c%c %s=%u\n",
		       slot, (unsigned long long)addr, len,
		       flags & VIRTQ_DESC_F_NEXT ? 'N' : '-',
		       flags & VIRTQ_DESC_F_WRITE ? 'W' : '-',
		       flags & VIRTQ_DESC_F_INDIRECT ? 'I' : '-',
		       flags & VIRTQ_DESC_F_AVAIL ? 'A' : '-',
		       flags & VIRTQ_DESC_F_USED ? 'U' : '-', link, value);
}

static void
vireo_vq_dump_split(const struct vireo_vq *vq, struct vireo_dump_out *o)
{
	const struct vireo_ring_split *r = &vq->split.ring;
	uint16_t mask = vq->size - 1, i, k;
	const struct vireo_split_desc *d;

	vireo_dump_put(o, "  avail: flags=0x%x idx=%u used_event=%u\n",
		       VIREO_READ_ONCE(r->avail->flags),
		       VIREO_READ_ONCE(r->avail->idx),
		       VIREO_READ_ONCE(*vireo_split_used_event(r, vq->size)));
	vireo_dump_put(o, "  used: flags=0x%x idx=%u avail_event=%u\n",
		       VIREO_READ_ONCE(r->used->flags),
		       VIREO_READ_ONCE(r->used->idx),
		       VIREO_READ_ONCE(*vireo_split_avail_event(r, vq->size)));
	/* the last heads offered, and the used entry we read next */
	for (i = vq->size < 2 ? vq->size : 2; i > 0; i--) {
		k = (vq->split.avail_idx - i) & mask;
		vireo_dump_put(o, "  avail.ring[%u]=%u\n", k,
			       VIREO_READ_ONCE(r->avail->ring[k]));
	}
	k = vq->last_used & mask;
	vireo_dump_put(o, "  used.ring[%u] id=%u len=%u\n", k,
		       VIREO_READ_ONCE(r->used->ring[k].id),
		       VIREO_READ_ONCE(r->used->ring[k].len));
	/* the descriptors the next adds take */
	for (i = 0; i < 2 && i < vq->nfree; i++) {
		if (vq->options & VIREO_VQ_OPT_IN_ORDER)
			k = (vq->free_cursor + i) & mask;
		else
			k = vq->free_ids[vq->free_cursor - 1 - i];
		d = &r->desc[k];
		vireo_dump_desc(o, k, VIREO_READ_ONCE(d->addr),
				VIREO_READ_ONCE(d->len),
				VIREO_READ_ONCE(d->flags), "next",
				VIREO_READ_ONCE(d->next));
	}
}

static void
vireo_vq_dump_packed(const struct vireo_vq *vq, struct vireo_dump_out *o)
{
	const struct vireo_ring_packed *r = &vq->packed.ring;
	const struct vireo_packed_desc *d;
	uint16_t i, k, n = vq->size < 4 ? vq->size : 4;

	vireo_dump_event(o, "driver_event", r->driver_event);
	vireo_dump_event(o, "device_event", r->device_event);
	/* from the slot we read next, up to four slots */
	for (i = 0; i < n; i++) {
		k = (uint16_t)(((uint32_t)vq->last_used + i) % vq->size);
		d = &r->desc[k];
		vireo_dump_desc(o, k, VIREO_READ_ONCE(d->addr),
				VIREO_READ_ONCE(d->len),
				VIREO_READ_ONCE(d->flags), "id",
				VIREO_READ_ONCE(d->id));
	}
}

int
vireo_vq_dump(const struct vireo_vq *vq, char *buf, size_t len)
{
	struct vireo_dump_out o = { buf, len, 0 };
	bool split = vq->layout == VIREO_VQ_SPLIT;

	if (len > 0)
		buf[0] = '\0';
	vireo_dump_put(&o, "vq %s size=%u options=%s%s%s\n",
		       split ? "split" : "packed", vq->size,
		       vq->options & VIREO_VQ_OPT_INDIRECT ? "+indirect" : "",
		       vq->options & VIREO_VQ_OPT_EVENT_IDX ? "+event_idx" : "",
		       vq->options & VIREO_VQ_OPT_IN_ORDER ? "+in_order" : "");
	vireo_dump_put(&o, "  free=%u in_flight=%u staged=%u next_id=%u\n",
		       vq->nfree, vq->in_flight, vq->staged_bufs,
		       vireo_vq_next_id(vq));
	if (split)
		vireo_dump_put(&o, "  next_avail=%u last_used=%u\n",
			       vq->split.avail_idx, vq->last_used);
	else
		vireo_dump_put(&o, "  next_avail=%u avail_wrap=%u last_used=%u used_wrap=%u\n",
			       vq->packed.next_avail,
			       vq->packed.avail_wrap_counter, vq->last_used,
			       vq->used_wrap_counter);
	if (vq->broken)
		vireo_dump_put(&o, "  broken: %d (%s)\n", vq->broken_reason,
			       vireo_vq_strerror(vq->broken_reason));
	else
		vireo_dump_put(&o, "  broken: no\n");
	if (split)
		vireo_vq_dump_split(vq, &o);
	else
		vireo_vq_dump_packed(vq, &o);
	return o.used > INT32_MAX ? INT32_MAX : (int)o.used;
}
