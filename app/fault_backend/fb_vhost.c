/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The vhost-user backend side of the control socket: accept or connect,
 * read one request (header, payload, descriptors), act on it, answer.
 * Message formats and request ids come from the frontend's own header
 * (vhost_user.h); the faults of the control channel are injected where
 * the reply is written.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fault_backend.h"

/* Wire layout of what we parse (the frontend builds the same bytes). */
#define FB_MEM_HEAD	8u	/* nregions, padding */
#define FB_MEM_REGION	32u	/* gpa, size, uva, mmap offset */
#define FB_ADDR_SIZE	40u	/* index, flags, desc, used, avail, log */

struct fb_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	uint8_t payload[FB_MAX_MSG];
	int fds[VIREO_VHOST_USER_MAX_REGIONS];
	int nfds;
};

static uint64_t
fb_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t
fb_get32le(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void
fb_close_fds(struct fb_msg *m)
{
	int i;

	for (i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

static void
fb_sockaddr(const struct fb *fb, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* fb_parse checked it fits with its terminator */
	memcpy(sa->sun_path, fb->path, strlen(fb->path) + 1);
}

/* A connected socket: blocking, but a half-sent message cannot hang us. */
static void
fb_adopt(struct fb *fb, int fd)
{
	struct timeval tv = { .tv_sec = 2 };
	unsigned int i;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	fb->sock = fd;
	fb->features = 0;
	fb->protocol = 0;
	fb->status = 0;
	for (i = 0; i < FB_MAX_RINGS; i++)
		fb_ring_reset(&fb->rings[i], i);
	fb->st.connections++;
	fb_log(fb, "frontend connected (connection %llu)",
	       (unsigned long long)fb->st.connections);
}

int
fb_listen(struct fb *fb)
{
	struct sockaddr_un sa;
	struct pollfd pfd;
	int fd;

	if (fb->listen_fd < 0) {
		fb->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fb->listen_fd < 0)
			return -errno;
		fb_sockaddr(fb, &sa);
		unlink(fb->path);
		if (bind(fb->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    listen(fb->listen_fd, 1) != 0) {
			fb_log(fb, "cannot listen on %s: %s", fb->path,
			       strerror(errno));
			return -errno;
		}
		fb_log(fb, "listening on %s", fb->path);
	}
	pfd.fd = fb->listen_fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 100) <= 0)
		return -EAGAIN;
	fd = accept4(fb->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	fb_adopt(fb, fd);
	return 0;
}

int
fb_connect(struct fb *fb)
{
	struct sockaddr_un sa;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	fb_sockaddr(fb, &sa);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		usleep(100 * 1000);
		return -EAGAIN;
	}
	fb_adopt(fb, fd);
	return 0;
}

static void
fb_unmap_all(struct fb *fb)
{
	unsigned int i;

	for (i = 0; i < fb->nregions; i++)
		munmap(fb->regions[i].map_base, fb->regions[i].map_len);
	fb->nregions = 0;
}

void
fb_hang_up(struct fb *fb)
{
	unsigned int i;

	if (fb->sock < 0)
		return;
	for (i = 0; i < FB_MAX_RINGS; i++) {
		fb_ring_stop(fb, &fb->rings[i]);
		if (fb->rings[i].kick_fd >= 0)
			close(fb->rings[i].kick_fd);
		if (fb->rings[i].call_fd >= 0)
			close(fb->rings[i].call_fd);
		fb_ring_reset(&fb->rings[i], i);
	}
	fb_unmap_all(fb);
	close(fb->sock);
	fb->sock = -1;
	fb->disconnect_now = false;
	fb_log(fb, "frontend connection closed");
}

/* Descriptor addresses: guest physical, through the memory table. */
void *
fb_map_gpa(void *ctx, uint64_t addr, uint32_t len)
{
	struct fb *fb = ctx;
	unsigned int i;

	for (i = 0; i < fb->nregions; i++) {
		const struct fb_region *r = &fb->regions[i];

		if (addr >= r->gpa && addr - r->gpa < r->size &&
		    len <= r->size - (addr - r->gpa))
			return r->host + (addr - r->gpa);
	}
	return NULL;
}

/* ---- replies, where the control faults live ---- */

/* Is the control fault aimed at this request now? Counts arrivals. */
static bool
fb_control_fault(struct fb *fb, enum fb_fault kind, uint32_t request)
{
	static uint64_t seen[64];

	if (fb->fault.kind != kind || fb->fault.request != request)
		return false;
	return fb_fault_due(fb, kind, seen[request & 63]++);
}

static int
fb_send(struct fb *fb, const uint8_t *buf, size_t len, const int *fds,
	int nfds)
{
	union {
		char space[CMSG_SPACE(sizeof(int) * 32)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.space;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	return sendmsg(fb->sock, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* The reply to request (8 payload bytes, as every reply has), faults in. */
static int
fb_reply(struct fb *fb, uint32_t request, uint64_t value)
{
	uint32_t hdr[3] = { request, VIREO_VHOST_USER_VERSION |
			    VIREO_VHOST_USER_FLAG_REPLY, 8 };
	uint8_t buf[VIREO_VHOST_USER_HDR_SIZE + 16];
	int fds[32], nfds = 0, i, rc;
	size_t len;

	memcpy(buf, hdr, sizeof(hdr));
	memcpy(buf + VIREO_VHOST_USER_HDR_SIZE, &value, 8);
	memset(buf + VIREO_VHOST_USER_HDR_SIZE + 8, 0, 8);
	len = VIREO_VHOST_USER_HDR_SIZE + 8;

	if (fb_control_fault(fb, FB_F_STALL_REPLY, request)) {
		fb_fault_fired(fb, "reply withheld");
		return 0;
	}
	if (fb_control_fault(fb, FB_F_REPLY_SIZE, request)) {
		/* a payload of 4 or of 16 bytes, each as announced */
		hdr[2] = fb->fault.arg ? 16 : 4;
		memcpy(buf, hdr, sizeof(hdr));
		len = VIREO_VHOST_USER_HDR_SIZE + hdr[2];
		fb_fault_fired(fb, "reply of the wrong size");
	}
	if (fb_control_fault(fb, FB_F_REPLY_ID, request)) {
		hdr[0] = fb->fault.arg ? fb->fault.arg : 0x7f;
		memcpy(buf, hdr, sizeof(hdr));
		fb_fault_fired(fb, "reply with an unknown request id");
	}
	if (fb_control_fault(fb, FB_F_REPLY_FDS, request)) {
		nfds = fb->fault.arg ? (int)fb->fault.arg : 1;
		if (nfds > 32)
			nfds = 32;
		for (i = 0; i < nfds; i++)
			fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		fb_fault_fired(fb, "descriptors attached to a reply");
	}
	if (fb_control_fault(fb, FB_F_SHORT_REPLY, request)) {
		/* the header and half the payload, then the peer is gone */
		fb_send(fb, buf, VIREO_VHOST_USER_HDR_SIZE + 4, NULL, 0);
		fb_fault_fired(fb, "half a reply, then hang-up");
		return -1;
	}
	rc = fb_send(fb, buf, len, fds, nfds);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	return rc;
}

/* REPLY_ACK for a request that asked for it. */
static int
fb_ack(struct fb *fb, const struct fb_msg *m, uint64_t status)
{
	if (!(m->flags & VIREO_VHOST_USER_FLAG_NEED_REPLY))
		return 0;
	if (fb_control_fault(fb, FB_F_NACK, m->request)) {
		status = fb->fault.arg ? fb->fault.arg : 1;
		fb_fault_fired(fb, "request refused (NACK)");
	}
	return fb_reply(fb, m->request, status);
}

/* ---- requests ---- */

static int
fb_set_mem_table(struct fb *fb, struct fb_msg *m)
{
	uint32_t n = m->size >= 4 ? fb_get32le(m->payload) : 0, i;
	unsigned int r;

	if (n == 0 || n > VIREO_VHOST_USER_MAX_REGIONS ||
	    m->size < FB_MEM_HEAD + n * FB_MEM_REGION || m->nfds != (int)n) {
		fb_log(fb, "SET_MEM_TABLE: %u regions, %d fds, %u bytes: refused",
		       n, m->nfds, m->size);
		return -1;
	}
	fb_unmap_all(fb);
	for (i = 0; i < n; i++) {
		const uint8_t *at = m->payload + FB_MEM_HEAD + i * FB_MEM_REGION;
		struct fb_region *reg = &fb->regions[i];
		uint64_t offset = fb_get64(at + 24), align = 4096;
		struct stat st;

		reg->gpa = fb_get64(at);
		reg->size = fb_get64(at + 8);
		reg->uva = fb_get64(at + 16);
		/* hugetlbfs maps whole pages only */
		if (fstat(m->fds[i], &st) == 0 && st.st_blksize > 0)
			align = st.st_blksize;
		reg->map_len = (reg->size + offset + align - 1) & ~(align - 1);
		reg->map_base = mmap(NULL, reg->map_len, PROT_READ | PROT_WRITE,
				     MAP_SHARED, m->fds[i], 0);
		if (reg->map_base == MAP_FAILED) {
			fb_log(fb, "mmap of region %u (%llu bytes): %s", i,
			       (unsigned long long)reg->map_len, strerror(errno));
			fb->nregions = i;
			fb_unmap_all(fb);
			return -1;
		}
		reg->host = (uint8_t *)reg->map_base + offset;
		fb->nregions = i + 1;
	}
	fb_close_fds(m);
	/* rings already running follow the memory (hotplug) */
	for (r = 0; r < FB_MAX_RINGS; r++)
		if (fb->rings[r].started)
			fb_ring_start(fb, &fb->rings[r]);
	if (fb->verbose)
		fb_log(fb, "memory table: %u regions", n);
	return 0;
}

static struct fb_ring *
fb_ring_of(struct fb *fb, uint32_t index)
{
	if (index >= 2u * fb->pairs) {
		fb_log(fb, "ring %u: this backend serves %u queue pairs",
		       index, fb->pairs);
		return NULL;
	}
	return &fb->rings[index];
}

static void
fb_set_features(struct fb *fb, uint64_t f)
{
	fb->features = f;
	fb->packed = f & (1ull << VIREO_F_RING_PACKED);
	fb->in_order = f & (1ull << VIREO_F_IN_ORDER);
	fb->mergeable = f & (1ull << 15);	/* VIRTIO_NET_F_MRG_RXBUF */
	/* VERSION_1 (or mergeable) headers carry num_buffers */
	fb->hdr_size = (f & (1ull << VIREO_F_VERSION_1)) || fb->mergeable ?
		12 : 10;
}

/* A kick (or no-fd) fd arrived, or the ring was re-addressed: go. */
static int
fb_try_start(struct fb *fb, struct fb_ring *r)
{
	if (r->num == 0 || !r->have_addr || fb->nregions == 0)
		return 0;
	return fb_ring_start(fb, r);
}

static int
fb_dispatch(struct fb *fb, struct fb_msg *m)
{
	uint64_t u64 = m->size >= 8 ? fb_get64(m->payload) : 0;
	uint32_t index = m->size >= 4 ? fb_get32le(m->payload) : 0;
	uint32_t num = m->size >= 8 ? fb_get32le(m->payload + 4) : 0;
	struct fb_ring *r;
	uint64_t value;

	if (fb_control_fault(fb, FB_F_CLOSE_ON, m->request)) {
		fb_fault_fired(fb, "hang-up on request");
		return -1;
	}
	switch (m->request) {
	case VIREO_VHOST_USER_GET_FEATURES:
		value = fb->offered;
		if (fb->fault.kind == FB_F_HUGE_FEATURES) {
			value = ~0ull;
			fb_fault_fired(fb, "every feature bit offered");
		}
		if (fb->fault.kind == FB_F_NO_VERSION_1) {
			value &= ~(1ull << VIREO_F_VERSION_1);
			fb_fault_fired(fb, "VERSION_1 not offered");
		}
		return fb_reply(fb, m->request, value);
	case VIREO_VHOST_USER_SET_FEATURES:
		fb_set_features(fb, u64);
		if (fb->verbose)
			fb_log(fb, "features 0x%llx", (unsigned long long)u64);
		return fb_ack(fb, m, 0);
	case VIREO_VHOST_USER_GET_PROTOCOL_FEATURES:
		value = (1ull << VIREO_VHOST_USER_PROTOCOL_F_MQ) |
			(1ull << VIREO_VHOST_USER_PROTOCOL_F_REPLY_ACK) |
			(1ull << VIREO_VHOST_USER_PROTOCOL_F_NET_MTU) |
			(1ull << VIREO_VHOST_USER_PROTOCOL_F_STATUS);
		if (fb->fault.kind == FB_F_HUGE_FEATURES)
			value = ~0ull;
		return fb_reply(fb, m->request, value);
	case VIREO_VHOST_USER_SET_PROTOCOL_FEATURES:
		fb->protocol = u64;
		return fb_ack(fb, m, 0);
	case VIREO_VHOST_USER_GET_QUEUE_NUM:
		return fb_reply(fb, m->request,
				fb->fault.kind == FB_F_HUGE_FEATURES ? ~0ull :
				fb->pairs);
	case VIREO_VHOST_USER_SET_OWNER:
	case VIREO_VHOST_USER_RESET_OWNER:
	case VIREO_VHOST_USER_NET_SET_MTU:
		return fb_ack(fb, m, 0);
	case VIREO_VHOST_USER_SET_STATUS:
		fb->status = u64;
		return fb_ack(fb, m, 0);
	case VIREO_VHOST_USER_GET_STATUS:
		return fb_reply(fb, m->request, fb->status);
	case VIREO_VHOST_USER_SET_MEM_TABLE:
		return fb_ack(fb, m, fb_set_mem_table(fb, m) == 0 ? 0 : 1);
	case VIREO_VHOST_USER_SET_VRING_NUM:
		r = fb_ring_of(fb, index);
		if (r == NULL || num == 0 || num > VIREO_VQ_MAX_SIZE ||
		    (fb->max_ring && num > fb->max_ring)) {
			fb_log(fb, "SET_VRING_NUM ring %u size %u: refused (at most %u)",
			       index, num, fb->max_ring ? fb->max_ring :
			       VIREO_VQ_MAX_SIZE);
			return fb_ack(fb, m, 1);
		}
		r->num = num;
		return fb_ack(fb, m, 0);
	case VIREO_VHOST_USER_SET_VRING_ADDR:
		r = fb_ring_of(fb, index);
		if (r == NULL || m->size < FB_ADDR_SIZE)
			return fb_ack(fb, m, 1);
		/* wire order: desc, used (device area), avail (driver area) */
		r->desc_uva = fb_get64(m->payload + 8);
		r->device_uva = fb_get64(m->payload + 16);
		r->driver_uva = fb_get64(m->payload + 24);
		r->have_addr = true;
		if (r->started && fb_ring_start(fb, r) != 0)
			return fb_ack(fb, m, 1);
		return fb_ack(fb, m, 0);
	case VIREO_VHOST_USER_SET_VRING_BASE:
		r = fb_ring_of(fb, index);
		if (r == NULL)
			return fb_ack(fb, m, 1);
		r->base = num;
		return fb_ack(fb, m, 0);
	case VIREO_VHOST_USER_GET_VRING_BASE:
		r = fb_ring_of(fb, index);
		value = index;
		if (r != NULL) {
			value |= (uint64_t)(r->started ?
				vireo_vq_dev_get_base(&r->dev) : r->base) << 32;
			fb_ring_stop(fb, r);
		}
		return fb_reply(fb, m->request, value);
	case VIREO_VHOST_USER_SET_VRING_KICK:
	case VIREO_VHOST_USER_SET_VRING_CALL:
	case VIREO_VHOST_USER_SET_VRING_ERR: {
		int fd = -1;

		r = fb_ring_of(fb, u64 & VIREO_VHOST_USER_VRING_IDX_MASK);
		if (!(u64 & VIREO_VHOST_USER_VRING_NOFD)) {
			if (m->nfds != 1) {
				fb_log(fb, "%s with %d fds: refused",
				       fb_request_name(m->request), m->nfds);
				return fb_ack(fb, m, 1);
			}
			fd = m->fds[0];
			m->nfds = 0;
		}
		if (r == NULL || m->request == VIREO_VHOST_USER_SET_VRING_ERR) {
			if (fd >= 0)
				close(fd);
			return fb_ack(fb, m, r == NULL);
		}
		if (m->request == VIREO_VHOST_USER_SET_VRING_CALL) {
			if (r->call_fd >= 0)
				close(r->call_fd);
			r->call_fd = fd;
			return fb_ack(fb, m, 0);
		}
		if (r->kick_fd >= 0)
			close(r->kick_fd);
		r->kick_fd = fd;
		/* the ring starts at its kick fd */
		return fb_ack(fb, m, fb_try_start(fb, r) == 0 ? 0 : 1);
	}
	case VIREO_VHOST_USER_SET_VRING_ENABLE:
		r = fb_ring_of(fb, index);
		if (r == NULL)
			return fb_ack(fb, m, 1);
		r->enabled = num != 0;
		return fb_ack(fb, m, 0);
	default:
		fb_log(fb, "request %u not served", m->request);
		return fb_ack(fb, m, 1);
	}
}

/* Reads and serves one request; < 0 when the connection must go. */
int
fb_serve_message(struct fb *fb)
{
	static struct fb_msg m;
	union {
		char space[CMSG_SPACE(sizeof(int) * VIREO_VHOST_USER_MAX_REGIONS)];
		struct cmsghdr align;
	} ctl;
	uint32_t hdr[3];
	struct iovec iov = { .iov_base = hdr, .iov_len = sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.space,
			     .msg_controllen = sizeof(ctl.space) };
	struct cmsghdr *cm;
	ssize_t got;
	int rc;

	m.nfds = 0;
	got = recvmsg(fb->sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	for (cm = CMSG_FIRSTHDR(&mh); got > 0 && cm != NULL;
	     cm = CMSG_NXTHDR(&mh, cm)) {
		int n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int), i;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (i = 0; i < n && m.nfds < VIREO_VHOST_USER_MAX_REGIONS; i++)
			memcpy(&m.fds[m.nfds++], CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(int));
	}
	if (got != (ssize_t)sizeof(hdr) || (mh.msg_flags & MSG_CTRUNC)) {
		if (got != 0)
			fb_log(fb, "bad message header (%zd bytes)", got);
		fb_close_fds(&m);
		return -1;
	}
	m.request = hdr[0];
	m.flags = hdr[1];
	m.size = hdr[2];
	if (m.size > FB_MAX_MSG ||
	    (m.size > 0 && recv(fb->sock, m.payload, m.size, MSG_WAITALL) !=
	     (ssize_t)m.size)) {
		fb_log(fb, "%s: payload of %u bytes not received",
		       fb_request_name(m.request), m.size);
		fb_close_fds(&m);
		return -1;
	}
	fb->st.messages++;
	if (fb->verbose)
		fb_log(fb, "%s (%u bytes, %d fds)",
		       fb_request_name(m.request), m.size, m.nfds);
	rc = fb_dispatch(fb, &m);
	fb_close_fds(&m);
	return rc;
}
