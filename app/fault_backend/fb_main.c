/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * vireo-fault-backend: options, the loop, statistics. See
 * fault_backend.h for what it is and fb_usage() for how to run it.
 */

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault_backend.h"
#include "vireo_net.h"

static const struct {
	const char *name;
	enum fb_fault kind;
	bool tx;		/* data faults: Tx ring by default */
	uint32_t request;	/* control faults: request hit by default */
} fb_faults[] = {
	{ "none", FB_F_NONE, false, 0 },
	{ "id_range", FB_F_ID_RANGE, false, 0 },
	{ "id_not_posted", FB_F_ID_NOT_POSTED, true, 0 },
	{ "id_reused", FB_F_ID_REUSED, false, 0 },
	{ "len", FB_F_LEN, false, 0 },
	{ "flags", FB_F_FLAGS, false, 0 },
	{ "idx_back", FB_F_IDX_BACK, false, 0 },
	{ "idx_far", FB_F_IDX_FAR, true, 0 },
	{ "order", FB_F_ORDER, false, 0 },
	{ "num_buffers", FB_F_NUM_BUFFERS, false, 0 },
	{ "bad_hdr", FB_F_BAD_HDR, false, 0 },
	{ "scribble", FB_F_SCRIBBLE, false, 0 },
	{ "no_kicks", FB_F_NO_KICKS, false, 0 },
	{ "stall", FB_F_STALL, false, 0 },
	{ "hold_tx", FB_F_HOLD_TX, true, 0 },
	{ "disconnect", FB_F_DISCONNECT, false, 0 },
	{ "cut_frame", FB_F_CUT_FRAME, false, 0 },
	{ "die_mid_batch", FB_F_DIE_MID_BATCH, true, 0 },
	{ "reply_size", FB_F_REPLY_SIZE, false, VIREO_VHOST_USER_GET_FEATURES },
	{ "reply_id", FB_F_REPLY_ID, false, VIREO_VHOST_USER_GET_FEATURES },
	{ "reply_fds", FB_F_REPLY_FDS, false, VIREO_VHOST_USER_GET_FEATURES },
	{ "nack", FB_F_NACK, false, VIREO_VHOST_USER_SET_MEM_TABLE },
	{ "stall_reply", FB_F_STALL_REPLY, false, VIREO_VHOST_USER_GET_VRING_BASE },
	{ "short_reply", FB_F_SHORT_REPLY, false, VIREO_VHOST_USER_GET_FEATURES },
	{ "close_on", FB_F_CLOSE_ON, false, VIREO_VHOST_USER_SET_MEM_TABLE },
	{ "huge_features", FB_F_HUGE_FEATURES, false, 0 },
	{ "no_version_1", FB_F_NO_VERSION_1, false, 0 },
};

/* Feature bits --features-off can take away from the offer. */
static const struct {
	const char *name;
	unsigned int bit;
} fb_feature_names[] = {
	{ "mrg", VIREO_NET_F_MRG_RXBUF },
	{ "mq", VIREO_NET_F_MQ },
	{ "any_layout", VIREO_F_ANY_LAYOUT },
	{ "indirect", VIREO_F_INDIRECT_DESC },
	{ "event_idx", VIREO_F_EVENT_IDX },
	{ "protocol", VIREO_VHOST_USER_F_PROTOCOL_FEATURES },
	{ "version_1", VIREO_F_VERSION_1 },
	{ "packed", VIREO_F_RING_PACKED },
	{ "in_order", VIREO_F_IN_ORDER },
};

static volatile sig_atomic_t fb_stop;
static volatile sig_atomic_t fb_pause_req = -1;	/* 1 pause, 0 resume */

double
fb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
fb_log(const struct fb *fb, const char *fmt, ...)
{
	va_list ap;

	(void)fb;
	fprintf(stderr, "fault-backend[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

const char *
fb_fault_name(enum fb_fault kind)
{
	unsigned int i;

	for (i = 0; i < sizeof(fb_faults) / sizeof(fb_faults[0]); i++)
		if (fb_faults[i].kind == kind)
			return fb_faults[i].name;
	return "?";
}

const char *
fb_request_name(uint32_t request)
{
	switch (request) {
	case VIREO_VHOST_USER_GET_FEATURES: return "GET_FEATURES";
	case VIREO_VHOST_USER_SET_FEATURES: return "SET_FEATURES";
	case VIREO_VHOST_USER_SET_OWNER: return "SET_OWNER";
	case VIREO_VHOST_USER_RESET_OWNER: return "RESET_OWNER";
	case VIREO_VHOST_USER_SET_MEM_TABLE: return "SET_MEM_TABLE";
	case VIREO_VHOST_USER_SET_VRING_NUM: return "SET_VRING_NUM";
	case VIREO_VHOST_USER_SET_VRING_ADDR: return "SET_VRING_ADDR";
	case VIREO_VHOST_USER_SET_VRING_BASE: return "SET_VRING_BASE";
	case VIREO_VHOST_USER_GET_VRING_BASE: return "GET_VRING_BASE";
	case VIREO_VHOST_USER_SET_VRING_KICK: return "SET_VRING_KICK";
	case VIREO_VHOST_USER_SET_VRING_CALL: return "SET_VRING_CALL";
	case VIREO_VHOST_USER_SET_VRING_ERR: return "SET_VRING_ERR";
	case VIREO_VHOST_USER_GET_PROTOCOL_FEATURES:
		return "GET_PROTOCOL_FEATURES";
	case VIREO_VHOST_USER_SET_PROTOCOL_FEATURES:
		return "SET_PROTOCOL_FEATURES";
	case VIREO_VHOST_USER_GET_QUEUE_NUM: return "GET_QUEUE_NUM";
	case VIREO_VHOST_USER_SET_VRING_ENABLE: return "SET_VRING_ENABLE";
	case VIREO_VHOST_USER_NET_SET_MTU: return "NET_SET_MTU";
	case VIREO_VHOST_USER_SET_STATUS: return "SET_STATUS";
	case VIREO_VHOST_USER_GET_STATUS: return "GET_STATUS";
	default: return "UNKNOWN";
	}
}

static uint32_t
fb_request_id(const char *name)
{
	uint32_t id;

	for (id = 1; id < 64; id++)
		if (strcmp(fb_request_name(id), name) == 0)
			return id;
	return (uint32_t)strtoul(name, NULL, 0);
}

/* Is this fault due, 'progress' being how far its trigger got? */
bool
fb_fault_due(struct fb *fb, enum fb_fault kind, uint64_t progress)
{
	const struct fb_fault_spec *f = &fb->fault;

	return f->kind == kind && progress >= f->after &&
		(f->count == 0 || f->done < f->count);
}

void
fb_fault_fired(struct fb *fb, const char *what)
{
	fb->fault.done++;
	fb->st.faults++;
	/* a repeating fault says so a few times, then only counts */
	if (fb->fault.done <= 3 || fb->verbose)
		fb_log(fb, "fault %s: %s (%u)", fb_fault_name(fb->fault.kind),
		       what, fb->fault.done);
}

/* Statistics as key=value lines, replaced atomically. */
void
fb_write_stats(struct fb *fb)
{
	uint64_t sum[10] = { 0 };
	unsigned int q, i, started = 0;
	char tmp[512];
	FILE *f;

	if (fb->stats_path == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", fb->stats_path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	for (i = 0; i < FB_MAX_RINGS; i++)
		started += fb->rings[i].started;
	fprintf(f, "pid=%d\nconnected=%d\nconnections=%llu\nmessages=%llu\n"
		"features=0x%llx\nprotocol=0x%llx\npacked=%d\nin_order=%d\n"
		"mergeable=%d\nrings_started=%u\nkicks=%llu\ncalls=%llu\n"
		"dev_errors=%llu\nfaults=%llu\ntx_chains=%llu\ntx_segs_max=%llu\n"
		"rx_bufs=%llu\ntoo_big=%llu\nstalled=%d\nholding_tx=%d\n"
		"paused=%d\n",
		(int)getpid(), fb->sock >= 0,
		(unsigned long long)fb->st.connections,
		(unsigned long long)fb->st.messages,
		(unsigned long long)fb->features,
		(unsigned long long)fb->protocol, fb->packed, fb->in_order,
		fb->mergeable, started, (unsigned long long)fb->st.kicks,
		(unsigned long long)fb->st.calls,
		(unsigned long long)fb->st.dev_errors,
		(unsigned long long)fb->st.faults,
		(unsigned long long)fb->st.tx_chains,
		(unsigned long long)fb->st.tx_segs_max,
		(unsigned long long)fb->st.rx_bufs,
		(unsigned long long)fb->st.too_big,
		fb->stalled_forever || fb->now < fb->stall_until,
		fb->now < fb->hold_tx_until, fb->paused);
	for (q = 0; q < fb->pairs; q++) {
		const struct fb_stream *s = &fb->streams[q];
		const uint64_t v[10] = { s->gen, s->gen_bytes, s->verified,
			s->verified_bytes, s->corrupt, s->reordered, s->lost,
			s->stale, s->alien, s->dropped };

		for (i = 0; i < 10; i++)
			sum[i] += v[i];
		fprintf(f, "q%u_gen=%llu\nq%u_verified=%llu\n", q,
			(unsigned long long)s->gen, q,
			(unsigned long long)s->verified);
	}
	fprintf(f, "gen=%llu\ngen_bytes=%llu\nverified=%llu\n"
		"verified_bytes=%llu\ncorrupt=%llu\nreordered=%llu\nlost=%llu\n"
		"stale=%llu\nalien=%llu\ndropped=%llu\n",
		(unsigned long long)sum[0], (unsigned long long)sum[1],
		(unsigned long long)sum[2], (unsigned long long)sum[3],
		(unsigned long long)sum[4], (unsigned long long)sum[5],
		(unsigned long long)sum[6], (unsigned long long)sum[7],
		(unsigned long long)sum[8], (unsigned long long)sum[9]);
	fclose(f);
	rename(tmp, fb->stats_path);
}

static void
fb_usage(FILE *out)
{
	unsigned int i;

	fprintf(out,
"usage: vireo-fault-backend --socket PATH [options]\n"
"  --socket PATH        vhost-user socket (listen on it; --client: connect)\n"
"  --client             connect to a frontend in server mode\n"
"  --once               exit when the first connection ends\n"
"  --paused             generate nothing until SIGUSR1 (SIGUSR2 pauses)\n"
"  --queues N           queue pairs served, GET_QUEUE_NUM (1)\n"
"  --max-ring N         refuse rings larger than N entries\n"
"  --mode gen|loop|sink gen: frames on Rx, checked on Tx (default);\n"
"                       loop: Tx frames back on Rx; sink: check Tx only\n"
"  --sizes A,B,...      frame sizes generated, cycled (64..65535)\n"
"  --rate PPS           frames per second per pair (0: as fast as rings go)\n"
"  --count N            frames per pair, then stop generating\n"
"  --burst N            buffers per ring per pass (32)\n"
"  --stream-base N      integrity stream id of pair 0 (1000)\n"
"  --tx-batch           in-order: one used entry per Tx burst\n"
"  --kick-only          serve a ring only after a kick (event protocol test)\n"
"  --features-off LIST  take features from the offer:");
	for (i = 0; i < sizeof(fb_feature_names) / sizeof(fb_feature_names[0]); i++)
		fprintf(out, " %s", fb_feature_names[i].name);
	fprintf(out, "\n"
"  --stats FILE         key=value statistics, rewritten every 200 ms\n"
"  --fault NAME         the misbehaviour of this run:\n                      ");
	for (i = 0; i < sizeof(fb_faults) / sizeof(fb_faults[0]); i++)
		fprintf(out, " %s", fb_faults[i].name);
	fprintf(out, "\n"
"  --fault-queue rx|tx  data faults: which ring of the pair\n"
"  --fault-after N      data: buffers first; control: requests first\n"
"  --fault-count N      injections (1; 0 = every time)\n"
"  --fault-arg N        fault-specific value (seconds, num_buffers, fds..)\n"
"  --fault-request NAME control faults: the request hit (e.g. GET_FEATURES)\n"
"  --verbose            log every message\n");
}

static int
fb_parse_sizes(struct fb *fb, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	unsigned long v;

	fb->nsizes = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		v = strtoul(tok, NULL, 0);
		if (v < 64 || v > FB_MAX_FRAME - 64 || fb->nsizes == FB_MAX_SIZES) {
			free(copy);
			return -1;
		}
		fb->sizes[fb->nsizes++] = v;
	}
	free(copy);
	return fb->nsizes > 0 ? 0 : -1;
}

static int
fb_parse_features_off(struct fb *fb, const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;
	unsigned int i;
	bool found;

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		found = false;
		for (i = 0; i < sizeof(fb_feature_names) / sizeof(fb_feature_names[0]); i++)
			if (strcmp(tok, fb_feature_names[i].name) == 0) {
				fb->features_off |= 1ull << fb_feature_names[i].bit;
				found = true;
			}
		if (!found) {
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

static int
fb_parse(struct fb *fb, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "client", no_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "paused", no_argument, NULL, 'P' },
		{ "queues", required_argument, NULL, 'q' },
		{ "max-ring", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "burst", required_argument, NULL, 'b' },
		{ "stream-base", required_argument, NULL, 'S' },
		{ "tx-batch", no_argument, NULL, 'B' },
		{ "kick-only", no_argument, NULL, 'k' },
		{ "features-off", required_argument, NULL, 'F' },
		{ "stats", required_argument, NULL, 't' },
		{ "fault", required_argument, NULL, 'f' },
		{ "fault-queue", required_argument, NULL, 'Q' },
		{ "fault-after", required_argument, NULL, 'a' },
		{ "fault-count", required_argument, NULL, 'C' },
		{ "fault-arg", required_argument, NULL, 'A' },
		{ "fault-request", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool after_set = false, queue_set = false, request_set = false;
	unsigned int i;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (strlen(optarg) >= sizeof(fb->path))
				return -1;
			strcpy(fb->path, optarg);
			break;
		case 'c': fb->client = true; break;
		case 'o': fb->once = true; break;
		case 'P': fb->paused = true; break;
		case 'q': fb->pairs = strtoul(optarg, NULL, 0); break;
		case 'm': fb->max_ring = strtoul(optarg, NULL, 0); break;
		case 'M':
			if (strcmp(optarg, "gen") == 0)
				fb->mode = FB_MODE_GEN;
			else if (strcmp(optarg, "loop") == 0)
				fb->mode = FB_MODE_LOOP;
			else if (strcmp(optarg, "sink") == 0)
				fb->mode = FB_MODE_SINK;
			else
				return -1;
			break;
		case 'z':
			if (fb_parse_sizes(fb, optarg) != 0)
				return -1;
			break;
		case 'r': fb->rate = strtoull(optarg, NULL, 0); break;
		case 'n': fb->count = strtoull(optarg, NULL, 0); break;
		case 'b': fb->burst = strtoul(optarg, NULL, 0); break;
		case 'S': fb->stream_base = strtoul(optarg, NULL, 0); break;
		case 'B': fb->tx_batch = true; break;
		case 'k': fb->kick_only = true; break;
		case 'F':
			if (fb_parse_features_off(fb, optarg) != 0)
				return -1;
			break;
		case 't': fb->stats_path = optarg; break;
		case 'f':
			for (i = 0; i < sizeof(fb_faults) / sizeof(fb_faults[0]); i++)
				if (strcmp(optarg, fb_faults[i].name) == 0)
					break;
			if (i == sizeof(fb_faults) / sizeof(fb_faults[0]))
				return -1;
			fb->fault.kind = fb_faults[i].kind;
			if (!queue_set)
				fb->fault.on_tx = fb_faults[i].tx;
			if (!request_set)
				fb->fault.request = fb_faults[i].request;
			break;
		case 'Q':
			fb->fault.on_tx = strcmp(optarg, "tx") == 0;
			queue_set = true;
			break;
		case 'a':
			fb->fault.after = strtoull(optarg, NULL, 0);
			after_set = true;
			break;
		case 'C': fb->fault.count = strtoul(optarg, NULL, 0); break;
		case 'A':
			fb->fault.arg = strtoul(optarg, NULL, 0);
			fb->fault.arg_set = true;
			break;
		case 'R':
			fb->fault.request = fb_request_id(optarg);
			request_set = true;
			break;
		case 'v': fb->verbose = true; break;
		case 'h': fb_usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (fb->path[0] == '\0' || fb->pairs == 0 || fb->pairs > FB_MAX_PAIRS ||
	    fb->burst == 0 || fb->burst > 256)
		return -1;
	/* data faults wait for traffic to be flowing, control ones do not */
	if (!after_set && fb->fault.kind < FB_F_REPLY_SIZE &&
	    fb->fault.kind != FB_F_NO_KICKS)
		fb->fault.after = 64;
	return 0;
}

static void
fb_on_signal(int sig)
{
	if (sig == SIGUSR1)
		fb_pause_req = 0;
	else if (sig == SIGUSR2)
		fb_pause_req = 1;
	else
		fb_stop = 1;
}

int
main(int argc, char **argv)
{
	static struct fb fb;
	struct pollfd pfd[1 + FB_MAX_RINGS];
	struct fb_ring *polled[1 + FB_MAX_RINGS];
	unsigned int i, n;
	uint64_t ticks;
	bool work;
	int rc;

	fb.pairs = 1;
	fb.burst = 32;
	fb.stream_base = 1000;
	fb.fault.count = 1;
	fb.listen_fd = -1;
	fb.sock = -1;
	fb.sizes[0] = 64;
	fb.sizes[1] = 128;
	fb.sizes[2] = 256;
	fb.sizes[3] = 512;
	fb.sizes[4] = 1024;
	fb.sizes[5] = 1518;
	fb.nsizes = 6;
	if (fb_parse(&fb, argc, argv) != 0) {
		fb_usage(stderr);
		return 2;
	}
	fb.offered = (1ull << VIREO_F_VERSION_1) |
		(1ull << VIREO_F_RING_PACKED) | (1ull << VIREO_F_IN_ORDER) |
		(1ull << VIREO_F_ANY_LAYOUT) | (1ull << VIREO_F_INDIRECT_DESC) |
		(1ull << VIREO_F_EVENT_IDX) | (1ull << VIREO_NET_F_MRG_RXBUF) |
		/* what lets a driver offer Rx checksum and LRO offloads:
		 * the generator never sets them, bad_hdr does */
		(1ull << VIREO_NET_F_GUEST_CSUM) |
		(1ull << VIREO_NET_F_GUEST_TSO4) |
		(1ull << VIREO_NET_F_GUEST_TSO6) |
		(1ull << VIREO_VHOST_USER_F_PROTOCOL_FEATURES);
	if (fb.pairs > 1)
		fb.offered |= 1ull << VIREO_NET_F_MQ;
	fb.offered &= ~fb.features_off;
	for (i = 0; i < FB_MAX_RINGS; i++)
		fb_ring_reset(&fb.rings[i], i);
	fb_streams_init(&fb);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, fb_on_signal);
	signal(SIGINT, fb_on_signal);
	/* a test holds the generator while it restarts the port, whose
	 * stop drops whatever waits in the Rx ring */
	signal(SIGUSR1, fb_on_signal);
	signal(SIGUSR2, fb_on_signal);
	fb_log(&fb, "%s %s, %u queue pairs, fault %s", fb.client ? "client of" :
	       "server on", fb.path, fb.pairs, fb_fault_name(fb.fault.kind));

	while (!fb_stop) {
		fb.now = fb_now();
		if (fb_pause_req >= 0) {
			fb.paused = fb_pause_req;
			fb_pause_req = -1;
			/* the rate limiter starts afresh */
			for (i = 0; i < fb.pairs; i++)
				fb.streams[i].last_refill = fb.now;
		}
		if (fb.now - fb.last_stats >= 0.2) {
			fb_write_stats(&fb);
			fb.last_stats = fb.now;
		}
		if (fb.sock < 0) {
			if (fb.once && fb.st.connections > 0)
				break;
			rc = fb.client ? fb_connect(&fb) : fb_listen(&fb);
			if (rc != 0 && rc != -EAGAIN && rc != -EINTR) {
				fb_log(&fb, "giving up: %s", strerror(-rc));
				return 1;
			}
			continue;
		}
		work = fb_serve_rings(&fb);
		if (fb.disconnect_now) {
			fb_hang_up(&fb);
			continue;
		}
		pfd[0].fd = fb.sock;
		pfd[0].events = POLLIN;
		n = 1;
		for (i = 0; i < 2u * fb.pairs; i++) {
			struct fb_ring *r = &fb.rings[i];

			/* without kicks honoured nobody listens to them */
			if (r->kick_fd < 0 || fb.fault.kind == FB_F_NO_KICKS)
				continue;
			pfd[n].fd = r->kick_fd;
			pfd[n].events = POLLIN;
			polled[n++] = r;
		}
		/* busy while there is work, otherwise a kick, a message or
		 * a millisecond (the generator's clock) wakes us */
		if (poll(pfd, n, work ? 0 : 1) <= 0)
			continue;
		for (i = 1; i < n; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (read(pfd[i].fd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
				fb.st.kicks++;
				polled[i]->kicked = true;
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (fb_serve_message(&fb) < 0)
				fb_hang_up(&fb);
		}
	}
	fb_hang_up(&fb);
	fb.now = fb_now();
	fb_write_stats(&fb);
	if (fb.listen_fd >= 0) {
		close(fb.listen_fd);
		unlink(fb.path);
	}
	fb_log(&fb, "exiting");
	return 0;
}
