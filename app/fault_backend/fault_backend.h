/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * vireo-fault-backend: a vhost-user backend (the device side) that
 * serves a virtio-user frontend such as net_vireo_user, generates and
 * checks traffic, and misbehaves on purpose, one chosen fault per run.
 *
 * One process, one thread: the control socket, the rings and the
 * statistics are served from one loop, so a SET_MEM_TABLE or a
 * GET_VRING_BASE never races the data path. The rings are driven with
 * lib/vring's device role; every address the frontend gives is
 * translated through the memory table it sent, never trusted.
 */

#ifndef VIREO_FAULT_BACKEND_H
#define VIREO_FAULT_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vring.h"
#include "vring_device.h"
#include "vhost_user.h"

#define FB_MAX_PAIRS		16
#define FB_MAX_RINGS		(2 * FB_MAX_PAIRS)
#define FB_MAX_SIZES		16
#define FB_MAX_FRAME		(64 * 1024)
#define FB_MAX_SEGS		130	/* a chained Tx frame: header + 64 + slack */
#define FB_MAX_MSG		4096	/* largest request payload we read */

/* What the data path does with the queue pairs. */
enum fb_mode {
	FB_MODE_GEN,		/* generate on Rx, check what comes back on Tx */
	FB_MODE_LOOP,		/* Tx frames go back out on Rx */
	FB_MODE_SINK,		/* check Tx, generate nothing */
};

/* The misbehaviour of this run (--fault). */
enum fb_fault {
	FB_F_NONE,
	/* the data path, as the driver sees the device write rings */
	FB_F_ID_RANGE,		/* used id >= ring size */
	FB_F_ID_NOT_POSTED,	/* used id the driver never made available */
	FB_F_ID_REUSED,		/* the same id used twice */
	FB_F_LEN,		/* written length above the buffer */
	FB_F_FLAGS,		/* packed: used flags of the other phase */
	FB_F_IDX_BACK,		/* split: used->idx moves backwards */
	FB_F_IDX_FAR,		/* split: used->idx jumps more than the ring */
	FB_F_ORDER,		/* split in-order: an id out of sequence */
	FB_F_NUM_BUFFERS,	/* mergeable header: num_buffers absurd */
	FB_F_BAD_HDR,		/* virtio-net header: random offload fields */
	FB_F_SCRIBBLE,		/* random bytes over the device-written areas */
	FB_F_NO_KICKS,		/* ignore kicks, never interrupt, poll slowly */
	FB_F_STALL,		/* stop serving the rings for a while */
	FB_F_HOLD_TX,		/* keep Tx buffers for a while, Rx goes on */
	FB_F_DISCONNECT,	/* close the socket in the middle of traffic */
	FB_F_CUT_FRAME,		/* hang up between the buffers of one frame */
	FB_F_DIE_MID_BATCH,	/* hang up with a batch used but its first slot not */
	/* the control channel */
	FB_F_REPLY_SIZE,	/* reply with a wrong payload size */
	FB_F_REPLY_ID,		/* reply with an unknown request id */
	FB_F_REPLY_FDS,		/* file descriptors attached to a reply */
	FB_F_NACK,		/* REPLY_ACK with a failure status */
	FB_F_STALL_REPLY,	/* never answer */
	FB_F_SHORT_REPLY,	/* half a reply, then hang up */
	FB_F_CLOSE_ON,		/* hang up when the request arrives */
	FB_F_HUGE_FEATURES,	/* every feature bit, every queue */
	FB_F_NO_VERSION_1,	/* refuse a feature the driver needs */
	FB_F_COUNT
};

struct fb_fault_spec {
	enum fb_fault kind;
	bool on_tx;		/* data faults: the Tx ring, else Rx */
	uint64_t after;		/* buffers on that ring before the first */
	uint32_t count;		/* injections; 0: every opportunity */
	uint32_t arg;		/* fault-specific (seconds, value, fds) */
	bool arg_set;		/* given on the command line (0 is a value) */
	uint32_t request;	/* control faults: the request to hit */
	uint32_t done;		/* injections so far */
};

/* One region of the frontend's memory table, mapped here. */
struct fb_region {
	uint64_t gpa;		/* guest physical (descriptor addresses) */
	uint64_t uva;		/* frontend virtual (ring addresses) */
	uint64_t size;
	uint8_t *host;		/* where it is mapped here (offset applied) */
	void *map_base;		/* what mmap returned */
	size_t map_len;
};

struct fb_ring {
	unsigned int index;
	bool tx;		/* odd index: the driver sends */
	uint32_t num;
	uint64_t desc_uva, driver_uva, device_uva;
	bool have_addr;
	uint32_t base;
	bool started;		/* kick received, rings mapped */
	bool enabled;
	bool broken;		/* the driver wrote something we refuse */
	int kick_fd;
	int call_fd;
	struct vireo_vq_dev dev;
	uint64_t completed;	/* buffers completed on this ring */
	bool kicked;		/* a kick came since the ring went idle */
	bool notify_on;		/* we asked the driver for kicks */
	uint16_t batch_id;	/* in-order Tx: last id of the pending batch */
	uint16_t batch_ndesc;	/* its descriptors */
	uint16_t batch_count;	/* its buffers */
	bool frozen;		/* a fault left it for the driver to find */
	uint8_t seen[VIREO_VQ_MAX_SIZE / 8];	/* ids ever taken */
};

/* Traffic of one queue pair, one integrity stream. */
struct fb_stream {
	uint16_t id;
	uint32_t next_seq;	/* the next frame generated */
	uint32_t size_idx;
	int64_t last_seq;	/* highest seen back, -1 before any */
	double tokens;		/* rate limiter */
	double last_refill;
	uint64_t gen, gen_bytes;
	uint64_t verified, verified_bytes;
	uint64_t corrupt, reordered, lost, stale, alien, dropped;
};

struct fb_stats {
	uint64_t connections;
	uint64_t messages;
	uint64_t kicks;
	uint64_t calls;
	uint64_t dev_errors;	/* chains of the driver we refused */
	uint64_t faults;	/* injections */
	uint64_t tx_chains, tx_segs_max;
	uint64_t rx_bufs;
	uint64_t too_big;	/* frames a non-mergeable buffer cannot hold */
};

struct fb {
	/* options */
	char path[108];
	bool client;
	bool once;
	bool kick_only;
	bool tx_batch;
	bool verbose;
	enum fb_mode mode;
	uint16_t pairs;
	uint32_t max_ring;
	uint32_t burst;
	uint64_t rate;		/* frames per second per pair, 0: no limit */
	uint64_t count;		/* frames per pair, 0: no limit */
	uint16_t stream_base;
	uint32_t sizes[FB_MAX_SIZES];
	unsigned int nsizes;
	uint64_t features_off;
	const char *stats_path;
	struct fb_fault_spec fault;
	/* connection */
	int listen_fd;
	int sock;
	uint64_t offered;
	uint64_t features;	/* SET_FEATURES */
	uint64_t protocol;	/* SET_PROTOCOL_FEATURES */
	uint64_t status;
	bool packed;
	bool in_order;
	bool mergeable;
	uint16_t hdr_size;
	unsigned int nregions;
	struct fb_region regions[VIREO_VHOST_USER_MAX_REGIONS];
	struct fb_ring rings[FB_MAX_RINGS];
	struct fb_stream streams[FB_MAX_PAIRS];
	struct fb_stats st;
	/* time */
	double now;
	double stall_until;	/* data path paused until then */
	double hold_tx_until;	/* Tx rings not served until then */
	bool stalled_forever;
	bool disconnect_now;	/* the data path asked to hang up */
	bool paused;		/* no frames generated (SIGUSR2; SIGUSR1 resumes) */
	double last_stats;
	double last_poll_all;
	uint8_t frame[FB_MAX_FRAME + 64];	/* scratch */
};

/* fb_main.c */
double fb_now(void);
void fb_log(const struct fb *fb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *fb_fault_name(enum fb_fault kind);
const char *fb_request_name(uint32_t request);
bool fb_fault_due(struct fb *fb, enum fb_fault kind, uint64_t progress);
void fb_fault_fired(struct fb *fb, const char *what);
void fb_write_stats(struct fb *fb);

/* fb_vhost.c */
int fb_listen(struct fb *fb);
int fb_connect(struct fb *fb);
int fb_serve_message(struct fb *fb);
void fb_hang_up(struct fb *fb);
void *fb_map_gpa(void *ctx, uint64_t addr, uint32_t len);

/* fb_ring.c */
void fb_ring_reset(struct fb_ring *r, unsigned int index);
int fb_ring_start(struct fb *fb, struct fb_ring *r);
void fb_ring_stop(struct fb *fb, struct fb_ring *r);
bool fb_serve_rings(struct fb *fb);
void fb_streams_init(struct fb *fb);

/* fb_frame.c */
uint32_t fb_crc32(uint32_t crc, const uint8_t *p, size_t n);
void fb_frame_build(uint8_t *out, uint32_t len, uint16_t stream, uint32_t seq);
void fb_frame_check(struct fb *fb, const uint8_t *frame, uint32_t len);

#endif /* VIREO_FAULT_BACKEND_H */
