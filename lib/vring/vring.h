/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The virtqueue object, driver role.
 *
 * One struct vireo_vq holds the state common to both layouts and a union
 * of the split and packed parts. Each operation has a _split and a _packed
 * body (vring_split.h, vring_packed.h) and a one-line dispatcher here.
 *
 * Serialisation: a vq is used by one thread at a time; the caller locks
 * if it shares one. Nothing here allocates, sleeps or calls EAL.
 *
 * Memory ordering (one rule per direction, the reason at each call):
 *  - we publish with a release store (split avail->idx, packed first
 *    staged head flags) after plain stores of everything it covers;
 *  - we consume with an acquire load (split used->idx, packed used
 *    flags) before reading what it covers;
 *  - deciding whether the peer wants an event needs a full fence: our
 *    store of the index must be visible before we load the peer's
 *    suppression field, or both sides may decide to sleep.
 * Plain C loads of device-written memory go through VIREO_READ_ONCE so
 * each field is read exactly once into a local and then validated.
 */

#ifndef VIREO_VRING_H
#define VIREO_VRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vring_defs.h"

#define VIREO_LIKELY(x)		__builtin_expect(!!(x), 1)
#define VIREO_UNLIKELY(x)	__builtin_expect(!!(x), 0)
/*
 * Hot bodies take the layout as an argument: the public wrappers pass
 * vq->layout, a caller that knows it (a PMD burst function per layout)
 * passes a constant and the compiler drops the other layout's code.
 */
#define VIREO_HOT		static inline __attribute__((always_inline))

/* &p[i], or NULL for an optional output array not given. */
#define VIREO_AT(p, i)		((p) != NULL ? (p) + (i) : NULL)

/* One read of shared memory the peer may change at any time. */
#define VIREO_READ_ONCE(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

/*
 * A read, at its own width, of a 16-bit vq field the same loop stores.
 * clang widens a plain load of it to 32 bits when the upper half is not
 * used; that load spans a neighbour's separate 16-bit store, and store
 * to load forwarding fails: a stall of about a dozen cycles each batch.
 * An atomic load is never widened.
 */
#define VIREO_LOAD16(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)

/* One store the peer may read at any time (no tearing, no merging). */
#define VIREO_WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/*
 * Full fence: no later load passes an earlier store.  On x86 a locked
 * read-modify-write orders that as mfence does for write-back memory,
 * which is all a ring is, and costs about half as much; or-ing zero
 * into the word at the stack top changes nothing.
 */
static inline void
vireo_full_fence(void)
{
#if defined(__x86_64__)
	__asm__ volatile("lock orl $0, (%%rsp)" ::: "memory", "cc");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

enum vireo_vq_layout {
	VIREO_VQ_SPLIT = 0,
	VIREO_VQ_PACKED = 1,
};

/* Negotiated options that change ring behaviour (vireo_vq_config.options). */
#define VIREO_VQ_OPT_INDIRECT	(1u << 0)	/* VIRTIO_F_INDIRECT_DESC */
#define VIREO_VQ_OPT_EVENT_IDX	(1u << 1)	/* VIRTIO_F_EVENT_IDX */
#define VIREO_VQ_OPT_IN_ORDER	(1u << 2)	/* VIRTIO_F_IN_ORDER */
/*
 * Split only: the layout a legacy (pre-1.0) device expects, since it is
 * told one page frame number and derives the rest (virtio 1.2, 2.7.2):
 * the ring starts on a 4096-byte boundary and the used ring on the first
 * 4096-byte boundary after the avail ring.
 */
#define VIREO_VQ_OPT_LEGACY_LAYOUT	(1u << 3)
#define VIREO_VQ_LEGACY_ALIGN		4096

/*
 * Results. Each failure has its own code; the ones from -10 on are
 * misbehaviour of the peer: they mark the vq broken and are counted in
 * vireo_vq.err_count[-code].
 */
enum vireo_vq_error {
	VIREO_VQ_OK = 0,
	VIREO_VQ_EINVAL = -1,		/* bad argument from the caller */
	VIREO_VQ_EFULL = -2,		/* not enough free descriptors */
	VIREO_VQ_EBROKEN = -3,		/* vq marked broken earlier */
	VIREO_VQ_ENOINDIRECT = -4,	/* indirect not negotiated/registered/too small */
	/* device misbehaviour, seen by the driver role */
	VIREO_VQ_EBADID = -10,		/* used id >= size */
	VIREO_VQ_ENOTPOSTED = -11,	/* used id not outstanding */
	VIREO_VQ_EBADLEN = -12,		/* used len > posted writable length */
	VIREO_VQ_EBADFLAGS = -13,	/* packed AVAIL/USED phase impossible */
	VIREO_VQ_EBADIDX = -14,		/* split used->idx back or too far */
	VIREO_VQ_EORDER = -15,		/* in-order id out of sequence */
	/* driver misbehaviour, seen by the device role */
	VIREO_VQ_EBADCHAIN = -20,	/* loop, overlong or malformed chain */
	VIREO_VQ_ESEGS = -21,		/* caller's segment array too small */
	VIREO_VQ_EBADADDR = -22,	/* address the map callback refused */
	VIREO_VQ_EBADAVAIL = -23,	/* avail idx or head out of range */
};
#define VIREO_VQ_ERR_SLOTS	24	/* err_count[] is indexed by -code */

/* One buffer of a chain, as the caller describes it. */
struct vireo_buf {
	uint64_t addr;		/* bus address */
	uint32_t len;		/* bytes */
};

/*
 * Our own per-slot bookkeeping, never shared with the device.
 * Split: indexed by descriptor index (the head index is the buffer id).
 * Packed: indexed by buffer id.
 */
struct vireo_vq_slot {
	void *cookie;		/* caller token; NULL when not outstanding */
	uint32_t buflen;	/* sum of writable lengths posted */
	uint16_t ndesc;		/* ring descriptors the buffer occupies */
	uint16_t next;		/* split: the chain's next descriptor */
};

/*
 * The indirect table registered for a slot.  Kept apart from the slots:
 * every reclaim and add touches a slot, few touch this, and 16-byte
 * slots put four to a cache line.
 */
struct vireo_vq_indirect {
	void *table;		/* caller's indirect table, or NULL */
	uint64_t iova;		/* its bus address */
	uint16_t max;		/* entries it holds */
};

_Static_assert(sizeof(struct vireo_vq_slot) == 16, "hot slot size");

/* Where the three areas sit, for the transport. */
struct vireo_ring_split {
	struct vireo_split_desc *desc;
	struct vireo_split_avail *avail;
	struct vireo_split_used *used;
};

struct vireo_ring_packed {
	struct vireo_packed_desc *desc;
	struct vireo_packed_event *driver_event;	/* we write */
	struct vireo_packed_event *device_event;	/* device writes */
};

/* Packed: the first slot of a batch, withheld (see vireo_packed_stage_flags). */
struct vireo_packed_stage {
	bool pending;		/* a first slot is withheld */
	uint16_t pos;		/* its ring slot */
	uint16_t flags;		/* its flags */
};

/* Byte offsets of the areas inside one contiguous ring allocation. */
struct vireo_vq_areas {
	size_t desc;		/* descriptor table / ring */
	size_t driver;		/* avail ring / driver event suppression */
	size_t device;		/* used ring / device event suppression */
	size_t total;		/* bytes to allocate */
	size_t align;		/* alignment of the allocation */
};

struct vireo_vq_config {
	enum vireo_vq_layout layout;
	uint16_t size;		/* split: power of two; packed: any, 1..32768 */
	uint32_t options;	/* VIREO_VQ_OPT_* */
	void *ring;		/* zeroed, vireo_vq_areas.total bytes, aligned */
	uint64_t ring_iova;	/* its bus address (virtual address for virtio-user) */
	struct vireo_vq_slot *slots;	/* size entries (vireo_vq_slots_size) */
};

struct vireo_vq {
	/* Common state, hot first. */
	uint16_t size;
	uint8_t layout;			/* enum vireo_vq_layout */
	uint8_t options;		/* VIREO_VQ_OPT_* */
	bool broken;			/* device misbehaved: every op refuses */
	bool used_wrap_counter;		/* packed: phase of used descriptors */
	bool batch_pending;		/* in-order: a batch is being handed out */
	uint16_t nfree;			/* free ring descriptors */
	uint16_t free_cursor;		/* in order: the id the next add takes;
					 * else how many ids free_ids holds */
	uint16_t last_used;		/* split: used idx (free running); packed: ring slot */
	uint16_t in_flight;		/* buffers published and not reclaimed */
	uint16_t staged_bufs;		/* buffers added since the last publish */
	uint16_t staged_descs;		/* ring descriptors added since the publish */
	uint16_t added_since_kick;	/* split: buffers; packed: descriptors */
	uint16_t inorder_next;		/* in-order: id the device completes next */
	uint16_t batch_end;		/* in-order: last id of the pending batch */
	uint32_t batch_end_len;		/* its written length */
	struct vireo_vq_slot *slot;
	/* Without IN_ORDER: the free ids (split: descriptors), a stack
	 * popped from free_ids[free_cursor - 1].  A stack, not a list
	 * through the slots: a burst's ids are loads from one place, not
	 * a chain of loads each waiting for the one before. */
	uint16_t *free_ids;
	struct vireo_vq_indirect *indirect;	/* after the slots, cold */
	union {
		struct {
			struct vireo_ring_split ring;
			uint16_t avail_idx;		/* shadow incl. staged heads */
			uint16_t used_idx_seen;		/* last used->idx acquired */
		} split;
		struct {
			struct vireo_ring_packed ring;
			uint16_t next_avail;		/* ring slot of the next add */
			bool avail_wrap_counter;	/* phase of our next add */
			uint16_t avail_used_flags;	/* AVAIL/USED bits for that phase */
			struct vireo_packed_stage stage; /* first staged head */
		} packed;
	};
	/* Cold. */
	int broken_reason;		/* enum vireo_vq_error that broke it */
	bool break_told;		/* vireo_vq_break_news said it */
	uint16_t detach_cursor;		/* teardown scan position */
	void *ring_mem;
	uint64_t ring_iova;
	uint64_t err_count[VIREO_VQ_ERR_SLOTS];
};

/*
 * A run of one-descriptor adds (vireo_vq_run_begin/add/end): what the
 * adds read and move, copied out of the vq so that the caller's loop
 * keeps it in registers.  Stores into the ring and the slots may alias
 * any uint16_t of the vq as far as the compiler knows; a local copy
 * whose address never escapes cannot be aliased, so nothing here is
 * reloaded after each descriptor written.
 */
struct vireo_vq_run {
	union {
		struct vireo_split_desc *split;
		struct vireo_packed_desc *packed;
	} desc;
	struct vireo_vq_slot *slot;
	uint16_t *avail;	/* split: the avail ring */
	/* 32 bits wide: no zero extension at each use */
	uint32_t size;
	uint32_t pos;		/* split: avail index; packed: next ring slot */
	uint32_t start;		/* pos at begin (how far it went says how
				 * many were added: no count to carry) */
	uint32_t id;		/* in order: the id (split: head) the next
				 * add takes; else the free_ids height */
	uint16_t *free_ids;
	uint32_t bits;		/* packed: AVAIL/USED bits of the phase */
	uint32_t start_bits;	/* packed: bits at begin */
	uint32_t held_flags;	/* packed: flags of the withheld first head */
	bool hold;		/* packed: the next add is the first head since
				 * the last publish: withhold its flags */
};

/* Sizes, layout, setup (vring.c). */
int vireo_vq_areas(enum vireo_vq_layout layout, uint32_t size,
		   struct vireo_vq_areas *areas);
int vireo_vq_areas_for(enum vireo_vq_layout layout, uint32_t size,
		       uint32_t options, struct vireo_vq_areas *areas);
size_t vireo_vq_slots_size(uint32_t size);
int vireo_vq_init(struct vireo_vq *vq, const struct vireo_vq_config *cfg);
int vireo_vq_set_indirect(struct vireo_vq *vq, uint16_t slot, void *table,
			  uint64_t iova, uint16_t entries);
int vireo_vq_set_base(struct vireo_vq *vq, uint32_t base);
uint32_t vireo_vq_get_base(const struct vireo_vq *vq);
uint32_t vireo_vq_resume_base(struct vireo_vq *vq);
void vireo_vq_reset(struct vireo_vq *vq);
void *vireo_vq_detach_unused(struct vireo_vq *vq);
void vireo_vq_addresses(const struct vireo_vq *vq, uint64_t *desc,
			uint64_t *driver, uint64_t *device);
const char *vireo_vq_strerror(int code);

/* Driver operations that are not per packet (vring.c). */
int vireo_vq_add(struct vireo_vq *vq, const struct vireo_buf *bufs,
		 uint16_t n_readable, uint16_t n_writable, void *cookie);
int vireo_vq_add_indirect(struct vireo_vq *vq, const struct vireo_buf *bufs,
			  uint16_t n_readable, uint16_t n_writable,
			  void *cookie);
int vireo_vq_disable_cb(struct vireo_vq *vq);
int vireo_vq_enable_cb(struct vireo_vq *vq);
int vireo_vq_dump(const struct vireo_vq *vq, char *buf, size_t len);

/* Marks the vq broken (first reason wins) and counts; returns the code. */
int vireo_vq_break(struct vireo_vq *vq, int code);

/*
 * The code that broke the vq, the first time it is asked after the
 * break; 0 when not broken or already told. A burst cut short by a bad
 * entry returns the buffers before it and the next call only gets
 * VIREO_VQ_EBROKEN: a data path checks this after its reclaim to count
 * and log each break once, whichever call met it.
 */
static inline int
vireo_vq_break_news(struct vireo_vq *vq)
{
	if (VIREO_LIKELY(!vq->broken) || vq->break_told)
		return 0;
	vq->break_told = true;
	return vq->broken_reason;
}

/*
 * spec 2.7.10: the peer asked for an event once index 'event' is
 * passed; 'old'..'new' is what we moved since we last decided.
 */
static inline bool
vireo_ring_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/*
 * Packed event suppression (spec 2.8.10), shared by both roles: the
 * reader of an area decides whether its peer wants an event after it
 * moved 'count' descriptors up to ring slot 'pos' in phase 'wrap'.
 * The caller has fenced its own publish against these loads.
 */
static inline bool
vireo_ring_packed_wants(const struct vireo_packed_event *ev, uint16_t pos,
			bool wrap, uint16_t count, uint16_t size)
{
	uint16_t flags = VIREO_READ_ONCE(ev->flags);
	uint16_t off_wrap = VIREO_READ_ONCE(ev->off_wrap);
	uint16_t event;

	if (flags == VIRTQ_EVENT_F_DISABLE)
		return false;
	/* ENABLE, an unknown mode (be safe), or a window beyond a ring */
	if (flags != VIRTQ_EVENT_F_DESC || count > size)
		return true;
	event = off_wrap & VIRTQ_EVENT_OFF_MASK;
	/* An offset from the previous lap sits one ring size behind. */
	if ((bool)(off_wrap >> VIRTQ_EVENT_WRAP_SHIFT) != wrap)
		event -= size;
	return vireo_ring_need_event(event, pos, pos - count);
}

/*
 * Split counterpart, both roles: the peer's flags word (bit 0 = no
 * event) or, with EVENT_IDX, its event index; our index moved by
 * 'count' up to 'new_idx'.
 */
static inline bool
vireo_ring_split_wants(const uint16_t *flags_word, const uint16_t *event_word,
		       bool event_idx, uint16_t new_idx, uint16_t count)
{
	if (event_idx)
		return vireo_ring_need_event(VIREO_READ_ONCE(*event_word),
					     new_idx, new_idx - count);
	return !(VIREO_READ_ONCE(*flags_word) & 1);
}

/*
 * Asks the peer for events (enable) or not, both roles. Split: our
 * flags word, and our event index set at 'index' (the next entry we
 * will consume) or, disabled, just behind it where the peer cannot
 * cross it until we consume more. With EVENT_IDX the peer ignores the
 * flag; it is set anyway so a dump tells the truth.
 */
static inline void
vireo_ring_split_suppress(uint16_t *flags_word, uint16_t *event_word,
			  bool event_idx, uint16_t index, bool enable)
{
	if (event_idx)
		VIREO_WRITE_ONCE(*event_word,
				 enable ? index : (uint16_t)(index - 1));
	VIREO_WRITE_ONCE(*flags_word, enable ? 0 : 1);
}

/* Packed: DESC at slot 'pos' of phase 'wrap' with EVENT_IDX, else
 * ENABLE; or DISABLE. */
static inline void
vireo_ring_packed_suppress(struct vireo_packed_event *ev, bool event_idx,
			   uint16_t pos, bool wrap, bool enable)
{
	uint16_t flags = enable ? VIRTQ_EVENT_F_ENABLE : VIRTQ_EVENT_F_DISABLE;

	if (enable && event_idx) {
		flags = VIRTQ_EVENT_F_DESC;
		VIREO_WRITE_ONCE(ev->off_wrap,
				 pos | wrap << VIRTQ_EVENT_WRAP_SHIFT);
	}
	/* Release: the offset is in place before the peer sees DESC. */
	__atomic_store_n(&ev->flags, flags, __ATOMIC_RELEASE);
}

/*
 * Packed batch publishing, both roles (the driver offering, the device
 * marking used): the flags of the first slot of a batch are withheld
 * and stored last with release; the peer reads slots in ring order, so
 * its acquire of that word covers every later slot of the batch.
 */
static inline void
vireo_packed_stage_flags(struct vireo_packed_desc *ring,
			 struct vireo_packed_stage *st, uint16_t pos,
			 uint16_t flags, bool head)
{
	if (head && !st->pending) {
		st->pending = true;
		st->pos = pos;
		st->flags = flags;
	} else {
		VIREO_WRITE_ONCE(ring[pos].flags, flags);
	}
}

static inline void
vireo_packed_stage_publish(struct vireo_packed_desc *ring,
			   struct vireo_packed_stage *st)
{
	if (!st->pending)
		return;
	st->pending = false;
	/* Release: every slot written since the batch began (bodies and
	 * later flags) is visible once the peer acquires this word. */
	__atomic_store_n(&ring[st->pos].flags, st->flags, __ATOMIC_RELEASE);
}

/* Moves a ring position n slots on, flipping the phase at the end. */
static inline void
vireo_packed_advance(uint16_t *pos, bool *wrap, uint16_t n, uint16_t size)
{
	uint32_t next = (uint32_t)*pos + n;

	if (next >= size) {
		next -= size;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)next;
}

/* Records one slot as outstanding; common to every add. */
static inline void
vireo_vq_slot_fill(struct vireo_vq *vq, uint16_t id, void *cookie,
		   uint32_t buflen, uint16_t ndesc)
{
	struct vireo_vq_slot *s = &vq->slot[id];

	s->cookie = cookie;
	s->buflen = buflen;
	s->ndesc = ndesc;
	/* as vireo_vq_slot_fill1; a split chain's links are set */
	if (ndesc == 1)
		s->next = 0;
	vq->nfree -= ndesc;
	vq->staged_bufs++;
	vq->staged_descs += ndesc;
}

/*
 * Records a one-descriptor buffer in its slot: two stores.  It has no
 * chain to link, so buflen, ndesc and a zero link go as one word.
 */
static inline void
vireo_vq_slot_fill1(struct vireo_vq_slot *s, void *cookie, uint32_t buflen)
{
	s->cookie = cookie;
	s->buflen = buflen;
	s->ndesc = 1;
	s->next = 0;
}

/* Without IN_ORDER: takes the id on top of the free stack (the caller
 * checked one is free). */
static inline uint16_t
vireo_vq_pop_free_id(struct vireo_vq *vq)
{
	return vq->free_ids[--vq->free_cursor];
}

/* Accounting after 'n' one-descriptor buffers were added in a burst,
 * the free cursor now at 'free_cursor'. */
static inline void
vireo_vq_added1(struct vireo_vq *vq, uint16_t n, uint16_t free_cursor)
{
	vq->free_cursor = free_cursor;
	vq->nfree -= n;
	vq->staged_bufs += n;
	vq->staged_descs += n;
}

/* Why an add cannot take 'ndesc' descriptors now, or 0 if it can. */
static inline int
vireo_vq_add_check(const struct vireo_vq *vq, uint16_t ndesc, void *cookie)
{
	if (VIREO_UNLIKELY(vq->broken))
		return VIREO_VQ_EBROKEN;
	if (VIREO_UNLIKELY(cookie == NULL || ndesc == 0))
		return VIREO_VQ_EINVAL;
	if (VIREO_UNLIKELY(vq->nfree < ndesc))
		return VIREO_VQ_EFULL;
	return 0;
}

/* Accounting once a publish made the staged adds visible; 'events' is
 * what the device's event index counts in this layout. */
static inline void
vireo_vq_published(struct vireo_vq *vq, uint16_t events)
{
	vq->in_flight += vq->staged_bufs;
	vq->added_since_kick += events;
	vq->staged_bufs = 0;
	vq->staged_descs = 0;
}

/*
 * In-order: the id the device completes after 'id'.  In order a buffer's
 * id is where its first descriptor sits, in both layouts (split: the
 * head's index in the table; packed: its ring slot), so the next id is
 * past the buffer's descriptors.
 */
VIREO_HOT uint16_t
vireo_vq_inorder_successor(const struct vireo_vq *vq, uint16_t id,
			   const enum vireo_vq_layout layout __attribute__((unused)))
{
	uint32_t next = (uint32_t)id + vq->slot[id].ndesc;

	return next >= vq->size ? next - vq->size : next;
}

/*
 * The length a device reports for an outstanding buffer: 0 if usable
 * (*len adjusted), else VIREO_VQ_EBADLEN.  A chain with nothing writable
 * had nothing written, and real devices may leave len alone there: DPDK
 * 22.11 vhost's packed dequeue flush writes only id and flags, so len
 * still holds the readable length we posted.  It is dropped rather than
 * trusted.  Beyond a writable length it is a lie.
 */
static inline int
vireo_vq_used_len(const struct vireo_vq_slot *s, uint32_t *len)
{
	if (VIREO_LIKELY(*len <= s->buflen))
		return 0;
	if (s->buflen != 0)
		return VIREO_VQ_EBADLEN;
	*len = 0;
	return 0;
}

/* The code of a used entry (id, len) that names no buffer it may, or 0:
 * the checks of the reclaim loops, in their order. */
static inline int
vireo_vq_judge_entry(const struct vireo_vq *vq, uint32_t id, uint32_t len)
{
	if (id >= vq->size)
		return VIREO_VQ_EBADID;
	if (vq->slot[id].cookie == NULL)
		return VIREO_VQ_ENOTPOSTED;
	if (vireo_vq_used_len(&vq->slot[id], &len) != 0)
		return VIREO_VQ_EBADLEN;
	return 0;
}

/* The books after 'done' single entries (batch_end and batch_end_len
 * mean something only while a batch is open). */
static inline void
vireo_vq_inorder_singles_done(struct vireo_vq *vq, uint16_t next,
			      uint16_t freed, uint16_t done)
{
	vq->inorder_next = next;
	vq->nfree += freed;
	vq->in_flight -= done;
}

#include "vring_split.h"
#include "vring_packed.h"

/*
 * Fetch dispatcher: the next used entry (id, len), or 0.  *may_load lets
 * the split body acquire used->idx once per burst.  Nothing is consumed:
 * the reclaim that follows moves the ring on.
 */
VIREO_HOT int
vireo_vq_fetch(struct vireo_vq *vq, bool *may_load, uint32_t *id,
	       uint32_t *len, uint16_t *ready,
	       const enum vireo_vq_layout layout)
{
	return layout == VIREO_VQ_SPLIT ?
		vireo_vq_fetch_split(vq, may_load, id, len, ready) :
		vireo_vq_fetch_packed(vq, id, len, ready);
}

/*
 * In order (VIRTIO_F_IN_ORDER), a used entry naming buffer 'id' completes
 * every buffer from vq->inorder_next through id, the device having
 * written no entry for the others.  Check the entry before taking any:
 * id in range and outstanding, len within what was posted, and the
 * batch inside what is in flight ('ready' bounds it).  Then the batch is
 * open and vireo_vq_inorder_take hands it out.
 */
VIREO_HOT int
vireo_vq_inorder_begin(struct vireo_vq *vq, uint32_t id, uint32_t len,
		       uint16_t ready, const enum vireo_vq_layout layout)
{
	const struct vireo_vq_slot *s;
	uint16_t walk, steps, dist;

	if (VIREO_UNLIKELY(id >= vq->size))
		return vireo_vq_break(vq, VIREO_VQ_EBADID);
	s = &vq->slot[id];
	if (VIREO_UNLIKELY(s->cookie == NULL))
		return vireo_vq_break(vq, VIREO_VQ_ENOTPOSTED);
	if (VIREO_UNLIKELY(vireo_vq_used_len(s, &len) != 0))
		return vireo_vq_break(vq, VIREO_VQ_EBADLEN);
	if (id != vq->inorder_next) {
		if (vq->size - vq->nfree - vq->staged_descs == vq->in_flight) {
			/* Every buffer out is one descriptor, one id step:
			 * the distance says it. */
			dist = id >= vq->inorder_next ? id - vq->inorder_next :
				id + vq->size - vq->inorder_next;
			if (VIREO_UNLIKELY(dist >= ready))
				return vireo_vq_break(vq, VIREO_VQ_EORDER);
		} else {
			/* Chains out: id must be a head we posted. */
			walk = vq->inorder_next;
			for (steps = 1; steps < ready && walk != id; steps++)
				walk = vireo_vq_inorder_successor(vq, walk,
								  layout);
			if (walk != id)
				return vireo_vq_break(vq, VIREO_VQ_EORDER);
		}
	}
	vq->batch_pending = true;
	vq->batch_end = (uint16_t)id;
	vq->batch_end_len = len;
	return 1;
}

/*
 * In order with every buffer out one descriptor (the data path's case:
 * vq->size - nfree - staged_descs == in_flight), the open batch is the
 * next (distance + 1) ids, one slot each.  How many of them a take of n
 * hands out; *last says whether that ends the batch.
 */
static inline uint32_t
vireo_vq_inorder_batch1(const struct vireo_vq *vq, uint16_t n, bool *last)
{
	uint32_t id = vq->inorder_next, end = vq->batch_end;
	uint32_t left = (end >= id ? end - id : end + vq->size - id) + 1;

	*last = left <= n;
	return *last ? left : n;
}

/* The books once k one-descriptor buffers of the open batch went out
 * (their cookies cleared): ids, used position, counts, and the last
 * one's length when that ended the batch. */
static inline void
vireo_vq_inorder_took1(struct vireo_vq *vq, uint32_t k, bool last,
		       uint32_t *lens, const enum vireo_vq_layout layout)
{
	uint32_t id = vq->inorder_next + k, pos = vq->last_used + k;

	if (id >= vq->size)
		id -= vq->size;
	if (layout == VIREO_VQ_PACKED && pos >= vq->size) {
		pos -= vq->size;
		vq->used_wrap_counter = !vq->used_wrap_counter;
	}
	if (last) {
		vq->batch_pending = false;
		if (lens != NULL)
			lens[k - 1] = vq->batch_end_len;
	}
	vq->inorder_next = (uint16_t)id;
	vq->last_used = (uint16_t)pos;
	vq->nfree += k;
	vq->in_flight -= k;
}

/* Hands out the cookies (and posted lengths) of the k slots from 'id'
 * on, round the end of the table, clearing them. */
static inline void
vireo_vq_slots_take(struct vireo_vq_slot *slot, uint32_t id, uint32_t size,
		    void **cookies, uint32_t *lens, uint32_t k)
{
	uint32_t i, run = k < size - id ? k : size - id;

	for (i = 0; i < run; i++) {
		cookies[i] = slot[id + i].cookie;
		if (lens != NULL)
			lens[i] = slot[id + i].buflen;
		slot[id + i].cookie = NULL;
	}
	for (; i < k; i++) {
		cookies[i] = slot[i - run].cookie;
		if (lens != NULL)
			lens[i] = slot[i - run].buflen;
		slot[i - run].cookie = NULL;
	}
}

/*
 * Hands out up to n buffers of the open batch, oldest first.  The
 * device wrote no length for the ones before the last: they report what
 * was posted (0 for Tx, the buffer size for Rx).  @lens may be NULL.
 */
VIREO_HOT uint16_t
vireo_vq_inorder_take(struct vireo_vq *vq, void **cookies, uint32_t *lens,
		      uint16_t n, const enum vireo_vq_layout layout)
{
	struct vireo_vq_slot *slot = vq->slot;
	const uint32_t size = vq->size, end = vq->batch_end;
	uint32_t id = vq->inorder_next, pos = vq->last_used, k = 0, freed = 0;
	bool wrap = vq->used_wrap_counter, last = false;

	if (vq->size - vq->nfree - vq->staged_descs == vq->in_flight) {
		k = vireo_vq_inorder_batch1(vq, n, &last);
		vireo_vq_slots_take(slot, id, size, cookies, lens, k);
		vireo_vq_inorder_took1(vq, k, last, lens, layout);
		return (uint16_t)k;
	}
	while (k < n && !last) {
		struct vireo_vq_slot *s = &slot[id];
		uint32_t ndesc = s->ndesc;

		last = id == end;
		cookies[k] = s->cookie;
		if (lens != NULL)
			lens[k] = s->buflen;
		s->cookie = NULL;
		k++;
		freed += ndesc;
		/* ids are first descriptors: the next is past this one */
		id += ndesc;
		if (VIREO_UNLIKELY(id >= size))
			id -= size;
		/* split: one used entry per buffer; packed: the device
		 * skips the slots of the whole chain (2.8.21) */
		if (layout == VIREO_VQ_SPLIT) {
			pos++;
		} else {
			pos += ndesc;
			if (VIREO_UNLIKELY(pos >= size)) {
				pos -= size;
				wrap = !wrap;
			}
		}
	}
	if (last) {
		vq->batch_pending = false;
		if (lens != NULL)
			lens[k - 1] = vq->batch_end_len;
	}
	/* In order there is no free stack: ids stay in ring order, so
	 * only the counts move. */
	vq->inorder_next = (uint16_t)id;
	vq->last_used = (uint16_t)pos;
	vq->used_wrap_counter = wrap;
	vq->nfree += freed;
	vq->in_flight -= k;
	return (uint16_t)k;
}

/*
 * In-order reclaim of up to n buffers.  *may_load says whether split may
 * still acquire used->idx in this burst (once per burst); a caller that
 * splits a burst into several calls (the vector reclaim) shares it.
 */
VIREO_HOT int
vireo_vq_reclaim_inorder_part(struct vireo_vq *vq, void **cookies,
			      uint32_t *lens, uint16_t n, bool *may_load,
			      const enum vireo_vq_layout layout)
{
	uint16_t done = 0;
	int rc = 0;

	while (done < n) {
		if (!vq->batch_pending) {
			/* zeroed only to quiet GCC: set when fetch says 1 */
			uint32_t id = 0, len = 0;
			uint16_t ready = 0;

			/* One buffer per entry first, in a tight loop; the
			 * entry it stops at is judged below. */
			rc = layout == VIREO_VQ_SPLIT ?
				vireo_vq_inorder_singles_split(vq,
					cookies + done, VIREO_AT(lens, done), n - done,
					may_load) :
				vireo_vq_inorder_singles_packed(vq,
					cookies + done, VIREO_AT(lens, done), n - done);
			if (rc < 0)
				break;
			done += rc;
			if (done == n)
				break;
			rc = vireo_vq_fetch(vq, may_load, &id, &len, &ready,
					    layout);
			if (rc <= 0)
				break;
			rc = vireo_vq_inorder_begin(vq, id, len, ready, layout);
			if (rc < 0)
				break;
		}
		done += vireo_vq_inorder_take(vq, cookies + done, VIREO_AT(lens, done),
					      n - done, layout);
	}
	/* Buffers taken before a bad entry are returned now; the error
	 * (the vq is broken) comes with the next call. */
	return done > 0 ? done : rc;
}

VIREO_HOT int
vireo_vq_reclaim_inorder(struct vireo_vq *vq, void **cookies, uint32_t *lens,
			 uint16_t n, const enum vireo_vq_layout layout)
{
	bool may_load = true;

	return vireo_vq_reclaim_inorder_part(vq, cookies, lens, n, &may_load,
					     layout);
}

/*
 * Takes up to n completed buffers: how many (cookie and bytes written
 * each), 0 when none, or a negative VIREO_VQ_E* when the first entry is
 * bad (the vq is then broken).  Split acquires used->idx once per
 * burst; packed acquires each used head's flags, since where the next
 * used slot sits depends on the buffer this one names.
 */
VIREO_HOT int
vireo_vq_get_used_burst_mode(struct vireo_vq *vq, void **cookies,
			     uint32_t *lens, uint16_t n,
			     const enum vireo_vq_layout layout,
			     const bool in_order)
{
	if (VIREO_UNLIKELY(vq->broken))
		return VIREO_VQ_EBROKEN;
	/* Out of order each used entry is one buffer: one tight loop.
	 * In order an entry may stand for a batch. */
	if (in_order)
		return vireo_vq_reclaim_inorder(vq, cookies, lens, n, layout);
	return layout == VIREO_VQ_SPLIT ?
		vireo_vq_reclaim_split(vq, cookies, lens, n) :
		vireo_vq_reclaim_packed(vq, cookies, lens, n);
}

/* The same, in order as the vq negotiated.  @lens may be NULL: then
 * no length is handed back, nor judged against what was posted. */
VIREO_HOT int
vireo_vq_get_used_burst_layout(struct vireo_vq *vq, void **cookies,
			       uint32_t *lens, uint16_t n,
			       const enum vireo_vq_layout layout)
{
	return vireo_vq_get_used_burst_mode(vq, cookies, lens, n, layout,
					    vq->options & VIREO_VQ_OPT_IN_ORDER);
}

static inline int
vireo_vq_get_used_burst(struct vireo_vq *vq, void **cookies, uint32_t *lens,
			uint16_t n)
{
	return vireo_vq_get_used_burst_layout(vq, cookies, lens, n,
					      vq->layout);
}

/*
 * Takes one completed buffer: 1 with *cookie and *len (bytes the device
 * wrote), 0 when none, or a negative VIREO_VQ_E* (vq now broken).
 */
static inline int
vireo_vq_get_used(struct vireo_vq *vq, void **cookie, uint32_t *len)
{
	return vireo_vq_get_used_burst_layout(vq, cookie, len, 1, vq->layout);
}

/*
 * Adds up to n one-descriptor buffers, device-readable (flags 0) or
 * device-writable (VIRTQ_DESC_F_WRITE), with one cookie each; returns
 * how many fit (it stops early at a NULL cookie, which vireo_vq_add_in1
 * refuses).  Visible at the next publish, as for every add.
 */
VIREO_HOT uint16_t
vireo_vq_add1_burst_layout(struct vireo_vq *vq, const struct vireo_buf *bufs,
			   void *const *cookies, uint16_t n, uint16_t flags,
			   const enum vireo_vq_layout layout)
{
	if (VIREO_UNLIKELY(vq->broken))
		return 0;
	return layout == VIREO_VQ_SPLIT ?
		vireo_vq_add1_burst_split(vq, bufs, cookies, n, flags) :
		vireo_vq_add1_burst_packed(vq, bufs, cookies, n, flags);
}

static inline uint16_t
vireo_vq_add1_burst(struct vireo_vq *vq, const struct vireo_buf *bufs,
		    void *const *cookies, uint16_t n, uint16_t flags)
{
	return vireo_vq_add1_burst_layout(vq, bufs, cookies, n, flags,
					  vq->layout);
}

/*
 * A run of one-descriptor adds, the data path's way to post buffers:
 *
 *	room = vireo_vq_run_begin(vq, &run, n, layout);
 *	for (i = 0; i < room; i++)
 *		vireo_vq_run_add(&run, addr, len, flags, buflen, cookie,
 *				 layout, in_order, i == 0);
 *	vireo_vq_run_end(vq, &run, layout, in_order);
 *
 * begin says how many may be added (0 when broken); each add writes one
 * descriptor (flags 0 or VIRTQ_DESC_F_WRITE; buflen the writable length,
 * 0 for a readable buffer) with a cookie that must not be NULL; nothing
 * else may touch the vq before end.  Visible at the next publish.
 * @in_order is what the vq negotiated (a constant in a data path built
 * for it); @first is true for the run's first add only (a constant
 * where the caller peels that add off its loop).
 */
VIREO_HOT uint16_t
vireo_vq_run_begin(const struct vireo_vq *vq, struct vireo_vq_run *run,
		   uint16_t n, const enum vireo_vq_layout layout)
{
	if (VIREO_UNLIKELY(vq->broken))
		n = 0;
	else if (n > vq->nfree)
		n = vq->nfree;
	/* what the layout's begin leaves alone (dead stores once the
	 * layout is a constant) */
	*run = (struct vireo_vq_run){ .size = 0 };
	if (layout == VIREO_VQ_SPLIT)
		vireo_vq_run_begin_split(vq, run);
	else
		vireo_vq_run_begin_packed(vq, run);
	return n;
}

VIREO_HOT void
vireo_vq_run_add(struct vireo_vq_run *run, uint64_t addr, uint32_t len,
		 uint16_t flags, uint32_t buflen, void *cookie,
		 const enum vireo_vq_layout layout, const bool in_order,
		 const bool first)
{
	if (layout == VIREO_VQ_SPLIT)
		vireo_vq_run_add_split(run, addr, len, flags, buflen, cookie,
				       in_order);
	else
		vireo_vq_run_add_packed(run, addr, len, flags, buflen, cookie,
					in_order, first);
}

VIREO_HOT void
vireo_vq_run_end(struct vireo_vq *vq, const struct vireo_vq_run *run,
		 const enum vireo_vq_layout layout, const bool in_order)
{
	if (layout == VIREO_VQ_SPLIT)
		vireo_vq_run_end_split(vq, run);
	else
		vireo_vq_run_end_packed(vq, run, in_order);
}

/* Fast adds: one descriptor, no loop. The PMD's per-mbuf path. */
VIREO_HOT int
vireo_vq_add_out1_layout(struct vireo_vq *vq, uint64_t addr, uint32_t len,
			 void *cookie, const enum vireo_vq_layout layout)
{
	return layout == VIREO_VQ_SPLIT ?
		vireo_vq_add1_split(vq, addr, len, 0, 0, cookie) :
		vireo_vq_add1_packed(vq, addr, len, 0, 0, cookie);
}

VIREO_HOT int
vireo_vq_add_in1_layout(struct vireo_vq *vq, uint64_t addr, uint32_t len,
			void *cookie, const enum vireo_vq_layout layout)
{
	return layout == VIREO_VQ_SPLIT ?
		vireo_vq_add1_split(vq, addr, len, VIRTQ_DESC_F_WRITE, len, cookie) :
		vireo_vq_add1_packed(vq, addr, len, VIRTQ_DESC_F_WRITE, len, cookie);
}

static inline int
vireo_vq_add_out1(struct vireo_vq *vq, uint64_t addr, uint32_t len,
		  void *cookie)
{
	return vireo_vq_add_out1_layout(vq, addr, len, cookie, vq->layout);
}

static inline int
vireo_vq_add_in1(struct vireo_vq *vq, uint64_t addr, uint32_t len,
		 void *cookie)
{
	return vireo_vq_add_in1_layout(vq, addr, len, cookie, vq->layout);
}

/* Makes every add since the last publish visible with one release. */
VIREO_HOT void
vireo_vq_publish_layout(struct vireo_vq *vq, const enum vireo_vq_layout layout)
{
	if (layout == VIREO_VQ_SPLIT)
		vireo_vq_publish_split(vq);
	else
		vireo_vq_publish_packed(vq);
}

static inline void
vireo_vq_publish(struct vireo_vq *vq)
{
	vireo_vq_publish_layout(vq, vq->layout);
}

/*
 * After publish: 1 if the device must be notified, 0 if it asked not
 * to be, VIREO_VQ_EBROKEN. Counts from the previous kick_prepare.
 */
VIREO_HOT int
vireo_vq_kick_prepare_layout(struct vireo_vq *vq,
			     const enum vireo_vq_layout layout)
{
	uint16_t added = vq->added_since_kick;

	if (VIREO_UNLIKELY(vq->broken))
		return VIREO_VQ_EBROKEN;
	if (added == 0)
		return 0;	/* nothing new for the device */
	vq->added_since_kick = 0;
	/* Full fence: our publishing store (split avail->idx, packed head
	 * flags) against our load of the device's suppression fields.
	 * Pairs with the device's store of those then load of the avail
	 * side (vireo_vq_dev_set_notify): one of us sees the other. */
	vireo_full_fence();
	return layout == VIREO_VQ_SPLIT ?
		vireo_vq_kick_wanted_split(vq, added) :
		vireo_vq_kick_wanted_packed(vq, added);
}

static inline int
vireo_vq_kick_prepare(struct vireo_vq *vq)
{
	return vireo_vq_kick_prepare_layout(vq, vq->layout);
}

/* True if a used buffer is waiting (no state change, no validation). */
static inline bool
vireo_vq_used_pending(const struct vireo_vq *vq)
{
	return vq->layout == VIREO_VQ_SPLIT ? vireo_vq_used_pending_split(vq) :
		vireo_vq_used_pending_packed(vq);
}

static inline uint16_t
vireo_vq_nfree(const struct vireo_vq *vq)
{
	return vq->nfree;
}

/*
 * The buffer id the next add will use (split: its head descriptor), so
 * a caller can prepare per-id memory (a header, an indirect table)
 * before adding.
 */
static inline uint16_t
vireo_vq_next_id(const struct vireo_vq *vq)
{
	if (vq->options & VIREO_VQ_OPT_IN_ORDER)
		return vq->free_cursor;
	return vq->free_cursor != 0 ? vq->free_ids[vq->free_cursor - 1] : 0;
}

/* Restore/telemetry accessors. */
static inline uint16_t
vireo_vq_next_avail(const struct vireo_vq *vq)
{
	return vq->layout == VIREO_VQ_SPLIT ? vq->split.avail_idx :
		vq->packed.next_avail;
}

static inline bool
vireo_vq_avail_wrap_counter(const struct vireo_vq *vq)
{
	return vq->layout == VIREO_VQ_PACKED && vq->packed.avail_wrap_counter;
}

static inline uint16_t
vireo_vq_last_used(const struct vireo_vq *vq)
{
	return vq->last_used;
}

/*
 * Where the next used entry will be, in the encoding of
 * vireo_vq_resume_base (split: the free-running used index; packed: the
 * slot with the used wrap counter in bit 15).
 */
static inline uint16_t
vireo_vq_used_position(const struct vireo_vq *vq)
{
	if (vq->layout == VIREO_VQ_SPLIT)
		return vq->last_used;
	return vq->last_used |
		(uint16_t)vq->used_wrap_counter << VIRTQ_EVENT_WRAP_SHIFT;
}

/*
 * How many one-slot used entries from position 'from' to position 'to'
 * (both as vireo_vq_used_position gives them); a position behind 'from'
 * reads as more than the ring size.
 */
static inline uint32_t
vireo_vq_used_distance(const struct vireo_vq *vq, uint16_t from, uint16_t to)
{
	uint32_t lap = 2u * vq->size, a, b;

	if (vq->layout == VIREO_VQ_SPLIT)
		return (uint16_t)(to - from);
	/* Packed: a slot counts twice per lap of the wrap counter, which
	 * starts at 1: phase 1 first, then phase 0. */
	a = (from & VIRTQ_EVENT_OFF_MASK) +
		(from >> VIRTQ_EVENT_WRAP_SHIFT ? 0 : vq->size);
	b = (to & VIRTQ_EVENT_OFF_MASK) +
		(to >> VIRTQ_EVENT_WRAP_SHIFT ? 0 : vq->size);
	return (b + lap - a) % lap;
}

static inline bool
vireo_vq_used_wrap_counter(const struct vireo_vq *vq)
{
	return vq->layout == VIREO_VQ_PACKED && vq->used_wrap_counter;
}

#endif /* VIREO_VRING_H */
