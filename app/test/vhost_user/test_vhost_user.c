/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/*
 * The vhost-user frontend against DPDK's own backend (librte_vhost) in
 * the same process, plus hostile replies fed through a socketpair.
 * One line per case, then "N passed, N failed"; non-zero exit on failure.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_vhost.h>

#include "vhost_user.h"
#include "vhost_user_mem.h"

int vireo_logtype_user;

static unsigned int passed;
static unsigned int failed;
static char tmp_dir[64];

/* Backend events, written by librte_vhost's threads. */
static int new_device_count;
static int destroy_device_count;
static int vring_state_count;
static int backend_vid = -1;

#define FEAT(bit) (1ULL << (bit))
#define F_MRG_RXBUF	15
#define F_CTRL_VQ	17
#define F_EVENT_IDX	29
#define F_VERSION_1	32
#define F_RING_PACKED	34
#define F_IN_ORDER	35

/* Device status bits: ACKNOWLEDGE, DRIVER, DRIVER_OK, FEATURES_OK. */
#define STATUS_READY	(1 | 2 | 4 | 8)

/* Distance between rings in the test buffer. */
#define RING_SLOT	(64 * 1024)

static void
report(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		printf("PASS %s\n", name);
		return;
	}
	failed++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static int
load_int(int *where)
{
	return __atomic_load_n(where, __ATOMIC_ACQUIRE);
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait for a backend counter to reach target; the backend is async. */
static bool
wait_count(int *counter, int target, unsigned int timeout_ms)
{
	unsigned int waited;

	for (waited = 0; waited < timeout_ms; waited += 5) {
		if (load_int(counter) >= target)
			return true;
		sleep_ms(5);
	}
	return load_int(counter) >= target;
}

static int
on_new_device(int vid)
{
	__atomic_store_n(&backend_vid, vid, __ATOMIC_RELEASE);
	__atomic_fetch_add(&new_device_count, 1, __ATOMIC_RELEASE);
	return 0;
}

static void
on_destroy_device(int vid)
{
	RTE_SET_USED(vid);
	__atomic_fetch_add(&destroy_device_count, 1, __ATOMIC_RELEASE);
}

static int
on_vring_state_changed(int vid, uint16_t queue_id, int enable)
{
	RTE_SET_USED(vid);
	RTE_SET_USED(queue_id);
	RTE_SET_USED(enable);
	__atomic_fetch_add(&vring_state_count, 1, __ATOMIC_RELEASE);
	return 0;
}

static const struct rte_vhost_device_ops backend_ops = {
	.new_device = on_new_device,
	.destroy_device = on_destroy_device,
	.vring_state_changed = on_vring_state_changed,
};

static int
backend_start(const char *path, uint64_t flags)
{
	if (rte_vhost_driver_register(path, flags) != 0)
		return -1;
	if (rte_vhost_driver_callback_register(path, &backend_ops) != 0 ||
	    rte_vhost_driver_start(path) != 0) {
		rte_vhost_driver_unregister(path);
		return -1;
	}
	return 0;
}

static void
reset_counters(void)
{
	__atomic_store_n(&new_device_count, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&destroy_device_count, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&vring_state_count, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&backend_vid, -1, __ATOMIC_RELEASE);
}

/* ---------- pure parser cases ---------- */

static size_t
make_reply(uint8_t *buf, uint32_t request, uint32_t flags, uint32_t size,
		uint64_t value, size_t payload_bytes)
{
	memcpy(buf, &request, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	memcpy(buf + 12, &value, 8);
	return VIREO_VHOST_USER_HDR_SIZE + payload_bytes;
}

static void
test_parser(void)
{
	const uint32_t good_flags = VIREO_VHOST_USER_VERSION |
		VIREO_VHOST_USER_FLAG_REPLY;
	const uint32_t gf = VIREO_VHOST_USER_GET_FEATURES;
	struct vireo_vhost_user_msg msg;
	uint8_t buf[64];
	size_t len;
	int ret;
	static const struct {
		const char *name;
		uint32_t request, flags, size;
		size_t payload_bytes;
		int nfds;
		int expect;
	} cases[] = {
		{ "parse_short_header", 1, 5, 8, 0, 0,
			-VIREO_VHOST_USER_E_SHORT_HEADER },
		{ "parse_bad_version", 1, 2 | 4, 8, 8, 0,
			-VIREO_VHOST_USER_E_BAD_VERSION },
		{ "parse_missing_reply_flag", 1, 1, 8, 8, 0,
			-VIREO_VHOST_USER_E_NOT_REPLY },
		{ "parse_need_reply_in_reply", 1, 1 | 4 | 8, 8, 8, 0,
			-VIREO_VHOST_USER_E_NOT_REPLY },
		{ "parse_wrong_request", 15, 5, 8, 8, 0,
			-VIREO_VHOST_USER_E_WRONG_REQUEST },
		{ "parse_wrong_size", 1, 5, 4, 4, 0,
			-VIREO_VHOST_USER_E_BAD_SIZE },
		{ "parse_huge_size", 1, 5, 0xffffffffu, 0, 0,
			-VIREO_VHOST_USER_E_BAD_SIZE },
		{ "parse_truncated", 1, 5, 8, 4, 0,
			-VIREO_VHOST_USER_E_TRUNCATED },
		{ "parse_trailing", 1, 5, 8, 12, 0,
			-VIREO_VHOST_USER_E_TRAILING_BYTES },
		{ "parse_unexpected_fds", 1, 5, 8, 8, 1,
			-VIREO_VHOST_USER_E_UNEXPECTED_FDS },
		{ "parse_too_many_fds", 1, 5, 8, 8, 9,
			-VIREO_VHOST_USER_E_UNEXPECTED_FDS },
	};
	unsigned int i;

	memset(buf, 0xa5, sizeof(buf));
	len = make_reply(buf, gf, good_flags, 8, 0x1234567890ULL, 8);
	ret = vireo_vhost_user_parse_reply(buf, len, 0, gf, &msg);
	report(ret == 0 && msg.payload.u64 == 0x1234567890ULL &&
		msg.request == gf, "parse_valid_reply", "ret %d", ret);

	for (i = 0; i < RTE_DIM(cases); i++) {
		memset(buf, 0xa5, sizeof(buf));
		len = make_reply(buf, cases[i].request, cases[i].flags,
			cases[i].size, 7, cases[i].payload_bytes);
		if (cases[i].expect == -VIREO_VHOST_USER_E_SHORT_HEADER)
			len = VIREO_VHOST_USER_HDR_SIZE - 1;
		ret = vireo_vhost_user_parse_reply(buf, len, cases[i].nfds, gf,
			&msg);
		report(ret == cases[i].expect, cases[i].name,
			"got %d (%s), want %d", ret,
			vireo_vhost_user_strerror(ret), cases[i].expect);
	}

	ret = vireo_vhost_user_parse_reply(NULL, 0, 0, gf, &msg);
	report(ret == -VIREO_VHOST_USER_E_SHORT_HEADER, "parse_null_input",
		"got %d", ret);

	/* A request with no reply of its own accepts only the u64 ack. */
	len = make_reply(buf, VIREO_VHOST_USER_SET_MEM_TABLE, good_flags, 8,
		1, 8);
	ret = vireo_vhost_user_parse_reply(buf, len, 0,
		VIREO_VHOST_USER_SET_MEM_TABLE, &msg);
	report(ret == 0 && msg.payload.u64 == 1, "parse_ack_reply",
		"got %d", ret);

	len = make_reply(buf, 99, good_flags, 8, 0, 8);
	ret = vireo_vhost_user_parse_reply(buf, len, 0, 99, &msg);
	report(ret == -VIREO_VHOST_USER_E_NO_REPLY_EXPECTED,
		"parse_unknown_request", "got %d", ret);

	/* Every code is distinct and has its own text. */
	{
		bool distinct = true;
		int a, b;

		for (a = VIREO_VHOST_USER_E_BASE + 1;
		     a < VIREO_VHOST_USER_E_END; a++)
			for (b = a + 1; b < VIREO_VHOST_USER_E_END; b++)
				if (strcmp(vireo_vhost_user_strerror(-a),
					   vireo_vhost_user_strerror(-b)) == 0)
					distinct = false;
		report(distinct, "error_texts_distinct", "duplicate text");
	}
}

static void
test_feature_names(void)
{
	char buf[256];
	int n;

	n = vireo_virtio_net_feature_names(FEAT(F_VERSION_1) |
		FEAT(F_RING_PACKED) | FEAT(F_MRG_RXBUF), buf, sizeof(buf));
	report(strcmp(buf, "MRG_RXBUF VERSION_1 RING_PACKED") == 0 &&
		n == (int)strlen(buf), "feature_names", "got '%s'", buf);

	n = vireo_virtio_net_feature_names(FEAT(4) | FEAT(0), buf,
		sizeof(buf));
	report(strcmp(buf, "CSUM BIT4") == 0, "feature_names_unknown",
		"got '%s'", buf);

	n = vireo_virtio_net_feature_names(FEAT(F_VERSION_1) |
		FEAT(F_RING_PACKED), buf, 8);
	report(n == (int)strlen("VERSION_1 RING_PACKED") &&
		strlen(buf) == 7, "feature_names_truncated",
		"n %d buf '%s'", n, buf);

	vireo_vhost_user_protocol_feature_names(0x10019, buf, sizeof(buf));
	report(strcmp(buf, "MQ REPLY_ACK NET_MTU STATUS") == 0,
		"protocol_feature_names", "got '%s'", buf);
}

/* ---------- hostile replies through a socketpair ---------- */

static int
fake_backend(struct vireo_vhost_user *conn, int *peer)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		return -1;
	vireo_vhost_user_init(conn, "/nonexistent/fake", 200);
	conn->sock_fd = sv[0];
	*peer = sv[1];
	return 0;
}

/* Queue a canned reply; the socket buffers it until we read it. */
static void
report_write(int peer, const uint8_t *buf, size_t len)
{
	if (write(peer, buf, len) != (ssize_t)len)
		printf("     write to fake peer failed\n");
}

static void
test_hostile_backend(void)
{
	const uint32_t ok_flags = VIREO_VHOST_USER_VERSION |
		VIREO_VHOST_USER_FLAG_REPLY;
	struct vireo_vhost_user conn;
	uint8_t buf[64];
	uint64_t value;
	size_t len;
	int peer, ret;
	int64_t start;
	struct timespec ts;

	/* Silent peer: the request must time out, not block. */
	if (fake_backend(&conn, &peer) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		start = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		ret = vireo_vhost_user_get_features(&conn, &value);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		report(ret == -VIREO_VHOST_USER_E_TIMEOUT &&
			!vireo_vhost_user_connected(&conn),
			"hostile_timeout", "got %d (%s) after %" PRId64 " ms",
			ret, vireo_vhost_user_strerror(ret),
			ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - start);
		close(peer);
		vireo_vhost_user_close(&conn);
	}

	/* Reply for another request: stream out of sync, link dropped. */
	if (fake_backend(&conn, &peer) == 0) {
		len = make_reply(buf, VIREO_VHOST_USER_GET_PROTOCOL_FEATURES,
			ok_flags, 8, 1, 8);
		report_write(peer, buf, len);
		ret = vireo_vhost_user_get_features(&conn, &value);
		report(ret == -VIREO_VHOST_USER_E_WRONG_REQUEST &&
			!vireo_vhost_user_connected(&conn),
			"hostile_wrong_request", "got %d", ret);
		ret = vireo_vhost_user_get_features(&conn, &value);
		report(ret == -ENOTCONN, "hostile_after_error_notconn",
			"got %d", ret);
		close(peer);
		vireo_vhost_user_close(&conn);
	}

	/* Oversized payload claim: rejected from the header alone. */
	if (fake_backend(&conn, &peer) == 0) {
		len = make_reply(buf, VIREO_VHOST_USER_GET_FEATURES, ok_flags,
			1u << 20, 0, 8);
		report_write(peer, buf, len);
		ret = vireo_vhost_user_get_features(&conn, &value);
		report(ret == -VIREO_VHOST_USER_E_BAD_SIZE, "hostile_big_size",
			"got %d", ret);
		close(peer);
		vireo_vhost_user_close(&conn);
	}

	/* Descriptors attached to a reply are refused (and closed). */
	if (fake_backend(&conn, &peer) == 0) {
		union {
			char space[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} control;
		struct msghdr mh = { 0 };
		struct cmsghdr *cmsg;
		struct iovec iov;
		int efd = eventfd(0, EFD_CLOEXEC);

		len = make_reply(buf, VIREO_VHOST_USER_GET_FEATURES, ok_flags,
			8, 0, 8);
		iov.iov_base = buf;
		iov.iov_len = len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = control.space;
		mh.msg_controllen = sizeof(control.space);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &efd, sizeof(int));
		if (sendmsg(peer, &mh, 0) != (ssize_t)len)
			printf("     sendmsg to fake peer failed\n");
		ret = vireo_vhost_user_get_features(&conn, &value);
		report(ret == -VIREO_VHOST_USER_E_UNEXPECTED_FDS,
			"hostile_fds_in_reply", "got %d", ret);
		close(efd);
		close(peer);
		vireo_vhost_user_close(&conn);
	}

	/* REPLY_ACK nack: reported, and the link stays usable. */
	if (fake_backend(&conn, &peer) == 0) {
		conn.protocol_features =
			FEAT(VIREO_VHOST_USER_PROTOCOL_F_REPLY_ACK);
		len = make_reply(buf, VIREO_VHOST_USER_SET_OWNER, ok_flags, 8,
			1, 8);
		report_write(peer, buf, len);
		ret = vireo_vhost_user_set_owner(&conn);
		report(ret == -VIREO_VHOST_USER_E_NACK &&
			vireo_vhost_user_connected(&conn), "hostile_nack",
			"got %d", ret);
		close(peer);
		vireo_vhost_user_close(&conn);
	}

	/* GET_VRING_BASE answering for another ring. */
	if (fake_backend(&conn, &peer) == 0) {
		uint32_t base;

		len = make_reply(buf, VIREO_VHOST_USER_GET_VRING_BASE, ok_flags,
			8, (uint64_t)5 << 32 | 3, 8);
		report_write(peer, buf, len);
		ret = vireo_vhost_user_get_vring_base(&conn, 1, &base);
		report(ret == -VIREO_VHOST_USER_E_WRONG_INDEX,
			"hostile_wrong_ring_index", "got %d", ret);
		close(peer);
		vireo_vhost_user_close(&conn);
	}

	/* Peer gone before the reply. */
	if (fake_backend(&conn, &peer) == 0) {
		close(peer);
		ret = vireo_vhost_user_get_features(&conn, &value);
		report(ret == -VIREO_VHOST_USER_E_DISCONNECTED,
			"hostile_peer_closed", "got %d", ret);
		vireo_vhost_user_close(&conn);
	}
}

/* ---------- against librte_vhost ---------- */

struct ring_setup {
	uint64_t desc, driver, device;
	uint32_t num, base;
	int kick_fd, call_fd;
};

static const struct rte_vhost_mem_region *
find_region(const struct rte_vhost_memory *mem, uint64_t addr, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *r = &mem->regions[i];

		if (addr >= r->guest_phys_addr &&
		    addr + len <= r->guest_phys_addr + r->size)
			return r;
	}
	return NULL;
}

/* What the backend maps at our address, through its own mapping. */
static uint64_t
backend_va(const struct rte_vhost_memory *mem, uint64_t addr)
{
	const struct rte_vhost_mem_region *r = find_region(mem, addr, 1);

	return r == NULL ? 0 : r->host_user_addr + addr - r->guest_phys_addr;
}

/*
 * A whole session: negotiate, memory, two rings, enable, DRIVER_OK,
 * check the backend's view, then GET_VRING_BASE. packed picks the layout.
 */
static void
test_session(const char *path, bool packed, uint8_t *ring_mem)
{
	const char *tag = packed ? "packed" : "split";
	const uint64_t wanted = FEAT(F_VERSION_1) | FEAT(F_MRG_RXBUF) |
		FEAT(F_EVENT_IDX) | FEAT(F_IN_ORDER) | FEAT(F_CTRL_VQ) |
		(packed ? FEAT(F_RING_PACKED) : 0);
	const uint64_t wanted_protocol =
		VIREO_VHOST_USER_PROTOCOL_FEATURES_SUPPORTED;
	struct vireo_vhost_user conn;
	struct vireo_vhost_user_mem_table table;
	struct ring_setup rings[2];
	struct rte_vhost_memory *mem = NULL;
	uint64_t offered, offered_protocol, negotiated, negotiated_protocol;
	uint64_t backend_features, queue_num;
	uint32_t backend_queues, q;
	char name[64];
	int ret, vid, tries;
	uint8_t status = 0;
	bool ok;

	reset_counters();
	memset(ring_mem, 0, 2 * RING_SLOT);
	memset(rings, 0, sizeof(rings));
	rings[0].kick_fd = rings[0].call_fd = -1;
	rings[1].kick_fd = rings[1].call_fd = -1;

	vireo_vhost_user_init(&conn, path, 2000);
	for (tries = 0; tries < 200; tries++) {
		ret = vireo_vhost_user_try_connect(&conn);
		if (ret != -EAGAIN && ret != -ECONNREFUSED)
			break;
		sleep_ms(5);
	}
	snprintf(name, sizeof(name), "%s_connect", tag);
	report(ret == 0, name, "got %d (%s)", ret,
		vireo_vhost_user_strerror(ret));
	if (ret != 0)
		return;

	ret = vireo_vhost_user_set_owner(&conn);
	snprintf(name, sizeof(name), "%s_set_owner", tag);
	report(ret == 0, name, "got %d", ret);

	rte_vhost_driver_get_features(path, &offered);
	rte_vhost_driver_get_protocol_features(path, &offered_protocol);
	ret = vireo_vhost_user_negotiate(&conn, wanted, FEAT(F_VERSION_1),
		wanted_protocol, &negotiated, &negotiated_protocol);
	snprintf(name, sizeof(name), "%s_negotiate", tag);
	report(ret == 0 &&
		negotiated == ((offered & wanted) |
			FEAT(VIREO_VHOST_USER_F_PROTOCOL_FEATURES)) &&
		negotiated_protocol == (offered_protocol & wanted_protocol),
		name, "ret %d features 0x%" PRIx64 " (offered 0x%" PRIx64
		") protocol 0x%" PRIx64 " (offered 0x%" PRIx64 ")", ret,
		negotiated, offered, negotiated_protocol, offered_protocol);
	if (ret != 0)
		goto out;

	ret = vireo_vhost_user_get_queue_num(&conn, &queue_num);
	rte_vhost_driver_get_queue_num(path, &backend_queues);
	snprintf(name, sizeof(name), "%s_get_queue_num", tag);
	report(ret == 0 && queue_num == backend_queues, name,
		"ret %d got %" PRIu64 " backend %u", ret, queue_num,
		backend_queues);

	ret = vireo_vhost_user_set_mtu(&conn, 1500);
	snprintf(name, sizeof(name), "%s_set_mtu", tag);
	report(ret == 0, name, "got %d (%s)", ret,
		vireo_vhost_user_strerror(ret));

	ret = vireo_vhost_user_mem_table_build(&table);
	if (ret == 0)
		ret = vireo_vhost_user_set_mem_table(&conn, &table);
	snprintf(name, sizeof(name), "%s_set_mem_table", tag);
	report(ret == 0, name, "got %d (%s)", ret,
		vireo_vhost_user_strerror(ret));
	if (ret != 0)
		goto out;

	for (q = 0; q < 2; q++) {
		struct ring_setup *r = &rings[q];
		uint8_t *at = ring_mem + q * RING_SLOT;

		/* Packed also accepts sizes that are not a power of two. */
		r->num = packed ? (q == 0 ? 256 : 250) : 256;
		r->desc = (uintptr_t)at;
		if (packed) {
			r->driver = r->desc + 16 * r->num;
			r->device = r->driver + 4;
			/* avail index with wrap counter in bit 15 */
			r->base = vireo_vhost_user_packed_base(q == 0 ? 5 : 17,
				q == 0);
		} else {
			r->driver = r->desc + 16 * r->num;
			/* used ring: 4-byte aligned after 6 + 2 * num bytes */
			r->device = RTE_ALIGN_CEIL(r->driver + 6 + 2 * r->num, 4);
			r->base = q == 0 ? 7 : 1000;
			/*
			 * librte_vhost resyncs a split ring to used->idx when
			 * it differs from the base, so a resumed ring must
			 * show the same index there, as a real one would.
			 */
			*(volatile uint16_t *)(uintptr_t)(r->device + 2) =
				(uint16_t)r->base;
		}
		r->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		r->call_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

		ret = vireo_vhost_user_set_vring(&conn, q, r->num, r->desc,
			r->driver, r->device, 0, r->base);
		if (ret == 0)
			ret = vireo_vhost_user_set_vring_kick(&conn, q,
				r->kick_fd);
		if (ret == 0)
			ret = vireo_vhost_user_set_vring_call(&conn, q,
				r->call_fd);
		if (ret == 0)
			ret = vireo_vhost_user_set_vring_enable(&conn, q, true);
		snprintf(name, sizeof(name), "%s_setup_vring%u", tag, q);
		report(ret == 0, name, "got %d (%s)", ret,
			vireo_vhost_user_strerror(ret));
		if (ret != 0)
			goto out;
	}

	/* With protocol STATUS, the backend waits for DRIVER_OK. */
	if (negotiated_protocol & FEAT(VIREO_VHOST_USER_PROTOCOL_F_STATUS)) {
		ret = vireo_vhost_user_set_status(&conn, STATUS_READY);
		if (ret == 0)
			ret = vireo_vhost_user_get_status(&conn, &status);
		snprintf(name, sizeof(name), "%s_status", tag);
		report(ret == 0 && status == STATUS_READY, name,
			"ret %d status 0x%x", ret, status);
	}

	ok = wait_count(&new_device_count, 1, 2000);
	snprintf(name, sizeof(name), "%s_new_device", tag);
	report(ok, name, "new_device did not fire");
	if (!ok)
		goto out;
	vid = load_int(&backend_vid);

	ret = rte_vhost_get_negotiated_features(vid, &backend_features);
	snprintf(name, sizeof(name), "%s_backend_features", tag);
	report(ret == 0 && backend_features == negotiated, name,
		"backend 0x%" PRIx64 " ours 0x%" PRIx64, backend_features,
		negotiated);

	ret = rte_vhost_get_mem_table(vid, &mem);
	snprintf(name, sizeof(name), "%s_backend_mem_table", tag);
	report(ret == 0 && mem != NULL && mem->nregions == table.nregions &&
		find_region(mem, (uintptr_t)ring_mem, 2 * RING_SLOT) != NULL,
		name, "ret %d regions %u (sent %u)", ret,
		mem != NULL ? mem->nregions : 0, table.nregions);
	if (mem == NULL)
		goto out;

	snprintf(name, sizeof(name), "%s_backend_vring_num", tag);
	report(rte_vhost_get_vring_num(vid) >= 2, name, "got %u",
		rte_vhost_get_vring_num(vid));

	for (q = 0; q < 2; q++) {
		struct ring_setup *r = &rings[q];
		struct rte_vhost_vring vring;
		uint16_t last_avail = 0, last_used = 0;
		uint64_t counter = 0;
		volatile uint32_t *ours;

		ret = rte_vhost_get_vhost_vring(vid, q, &vring);
		snprintf(name, sizeof(name), "%s_backend_vring%u_addrs", tag,
			q);
		report(ret == 0 && vring.size == r->num &&
			(uintptr_t)vring.desc == backend_va(mem, r->desc) &&
			(uintptr_t)vring.avail == backend_va(mem, r->driver) &&
			(uintptr_t)vring.used == backend_va(mem, r->device),
			name, "ret %d size %u desc %p (want 0x%" PRIx64 ")",
			ret, vring.size, (void *)vring.desc,
			backend_va(mem, r->desc));

		/* The backend's mapping is the same memory as ours. */
		ours = (volatile uint32_t *)(uintptr_t)r->desc;
		*ours = 0xfeed0000u + q;
		snprintf(name, sizeof(name), "%s_shared_memory%u", tag, q);
		report(ret == 0 &&
			*(volatile uint32_t *)vring.desc == 0xfeed0000u + q,
			name, "backend reads 0x%x",
			ret == 0 ? *(volatile uint32_t *)vring.desc : 0);
		*ours = 0;

		/* Kick through our fd, read it from the backend's copy. */
		ret = eventfd_write(r->kick_fd, 3);
		if (ret == 0)
			ret = eventfd_read(vring.kickfd, &counter);
		snprintf(name, sizeof(name), "%s_kick_fd%u", tag, q);
		report(ret == 0 && counter == 3, name, "ret %d counter %"
			PRIu64, ret, counter);

		ret = rte_vhost_get_vring_base(vid, q, &last_avail,
			&last_used);
		snprintf(name, sizeof(name), "%s_backend_vring%u_base", tag, q);
		report(ret == 0 && last_avail == r->base &&
			last_used == r->base, name,
			"ret %d avail 0x%x used 0x%x want 0x%x", ret,
			last_avail, last_used, r->base);
	}
	snprintf(name, sizeof(name), "%s_vring_state_changed", tag);
	report(load_int(&vring_state_count) >= 2, name, "count %d",
		load_int(&vring_state_count));

	for (q = 0; q < 2; q++) {
		uint32_t base = 0xdeadbeef;

		ret = vireo_vhost_user_get_vring_base(&conn, q, &base);
		snprintf(name, sizeof(name), "%s_get_vring_base%u", tag, q);
		/* librte_vhost 22.11 reports the avail side only. */
		report(ret == 0 && base == rings[q].base, name,
			"ret %d base 0x%x want 0x%x", ret, base,
			rings[q].base);
	}
	snprintf(name, sizeof(name), "%s_destroy_device", tag);
	report(wait_count(&destroy_device_count, 1, 2000), name,
		"destroy_device did not fire");

out:
	free(mem);
	vireo_vhost_user_close(&conn);
	for (q = 0; q < 2; q++) {
		if (rings[q].kick_fd >= 0)
			close(rings[q].kick_fd);
		if (rings[q].call_fd >= 0)
			close(rings[q].call_fd);
	}
	/* Let the backend notice the close before the next session. */
	sleep_ms(20);
}

static void
test_client_mode(uint8_t *ring_mem)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/client.sock", tmp_dir);
	if (backend_start(path, 0) != 0) {
		report(false, "client_backend_start", "register failed");
		return;
	}
	test_session(path, false, ring_mem);
	test_session(path, true, ring_mem);
	rte_vhost_driver_unregister(path);
}

static void
test_server_mode(void)
{
	struct vireo_vhost_user conn;
	char path[128];
	uint64_t features = 0;
	int ret, tries;

	snprintf(path, sizeof(path), "%s/server.sock", tmp_dir);
	ret = vireo_vhost_user_init(&conn, path, 2000);
	if (ret == 0)
		ret = vireo_vhost_user_listen(&conn);
	ret = ret == 0 ? vireo_vhost_user_try_accept(&conn) : ret;
	report(ret == -EAGAIN, "server_accept_nonblocking", "got %d", ret);
	if (ret != -EAGAIN)
		goto out;

	if (backend_start(path, RTE_VHOST_USER_CLIENT |
			RTE_VHOST_USER_NO_RECONNECT) != 0) {
		report(false, "server_backend_start", "register failed");
		goto out;
	}
	for (tries = 0; tries < 400; tries++) {
		ret = vireo_vhost_user_try_accept(&conn);
		if (ret != -EAGAIN)
			break;
		sleep_ms(5);
	}
	report(ret == 0, "server_accept", "got %d", ret);
	if (ret == 0) {
		ret = vireo_vhost_user_set_owner(&conn);
		if (ret == 0)
			ret = vireo_vhost_user_negotiate(&conn,
				FEAT(F_VERSION_1), FEAT(F_VERSION_1),
				VIREO_VHOST_USER_PROTOCOL_FEATURES_SUPPORTED,
				&features, NULL);
		report(ret == 0 && (features & FEAT(F_VERSION_1)),
			"server_negotiate", "got %d (%s)", ret,
			vireo_vhost_user_strerror(ret));
		ret = vireo_vhost_user_check_peer(&conn);
		report(ret == 0, "server_check_peer_alive", "got %d", ret);
	}
	rte_vhost_driver_unregister(path);
	if (vireo_vhost_user_connected(&conn)) {
		for (tries = 0; tries < 200; tries++) {
			ret = vireo_vhost_user_check_peer(&conn);
			if (ret != 0)
				break;
			sleep_ms(5);
		}
		report(ret == -VIREO_VHOST_USER_E_DISCONNECTED &&
			!vireo_vhost_user_connected(&conn),
			"server_check_peer_gone", "got %d", ret);
		/* The listener stays: the backend may come back. */
		ret = vireo_vhost_user_try_accept(&conn);
		report(ret == -EAGAIN, "server_listener_kept", "got %d", ret);
	}
out:
	vireo_vhost_user_close(&conn);
	{
		struct stat st;

		report(stat(path, &st) != 0, "server_socket_removed",
			"%s still exists", path);
	}
}

static void
test_backend_disappears(void)
{
	struct vireo_vhost_user conn;
	char path[128];
	uint64_t features;
	struct timespec t0, t1;
	int ret, tries;
	long elapsed_ms;

	snprintf(path, sizeof(path), "%s/vanish.sock", tmp_dir);
	if (backend_start(path, 0) != 0) {
		report(false, "vanish_backend_start", "register failed");
		return;
	}
	vireo_vhost_user_init(&conn, path, 3000);
	for (tries = 0; tries < 200; tries++) {
		ret = vireo_vhost_user_try_connect(&conn);
		if (ret == 0)
			break;
		sleep_ms(5);
	}
	if (ret == 0)
		ret = vireo_vhost_user_get_features(&conn, &features);
	report(ret == 0, "vanish_connected", "got %d", ret);

	rte_vhost_driver_unregister(path);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = vireo_vhost_user_get_features(&conn, &features);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed_ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		(t1.tv_nsec - t0.tv_nsec) / 1000000;
	report(ret == -VIREO_VHOST_USER_E_DISCONNECTED && elapsed_ms < 1000 &&
		!vireo_vhost_user_connected(&conn), "vanish_disconnect_error",
		"got %d (%s) after %ld ms", ret,
		vireo_vhost_user_strerror(ret), elapsed_ms);

	/* Reconnect attempts fail fast while nobody listens. */
	ret = vireo_vhost_user_try_connect(&conn);
	report(ret == -ECONNREFUSED, "vanish_reconnect_refused", "got %d",
		ret);
	vireo_vhost_user_close(&conn);
}

static void
test_mem_table(uint8_t *ring_mem)
{
	struct vireo_vhost_user_mem_table table;
	uint64_t addr = (uintptr_t)ring_mem;
	bool covered = false;
	uint32_t i;
	int ret;

	ret = vireo_vhost_user_mem_table_build(&table);
	for (i = 0; ret == 0 && i < table.nregions; i++) {
		const struct vireo_vhost_user_mem_region *r =
			&table.regions[i];

		if (addr >= r->userspace_addr &&
		    addr + 2 * RING_SLOT <= r->userspace_addr + r->memory_size)
			covered = true;
	}
	report(ret == 0 && covered && table.nregions >= 1 &&
		table.regions[0].fd >= 0, "mem_table_build",
		"ret %d regions %u covered %d", ret, table.nregions, covered);
	if (ret == 0)
		printf("     %u region(s), first: va 0x%" PRIx64 " size 0x%"
			PRIx64 " offset 0x%" PRIx64 "\n", table.nregions,
			table.regions[0].userspace_addr,
			table.regions[0].memory_size,
			table.regions[0].mmap_offset);
}

static void
dummy_mem_event(enum rte_mem_event type, const void *addr, size_t len,
		void *arg)
{
	RTE_SET_USED(type);
	RTE_SET_USED(addr);
	RTE_SET_USED(len);
	RTE_SET_USED(arg);
}

static void
test_mem_event(void)
{
	int ret;

	ret = vireo_vhost_user_mem_event_register("vireo-vu-test",
		dummy_mem_event, NULL);
	/* --no-huge is legacy memory: no hotplug, hence no events. */
	report(ret == 0 || ret == -ENOTSUP, "mem_event_register",
		"got %d", ret);
	if (ret == 0)
		vireo_vhost_user_mem_event_unregister("vireo-vu-test", NULL);
}

static void
cleanup_tmp_dir(void)
{
	char path[128];
	static const char *const names[] = {
		"client.sock", "server.sock", "vanish.sock",
	};
	unsigned int i;

	if (tmp_dir[0] == '\0')
		return;
	for (i = 0; i < RTE_DIM(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp_dir, names[i]);
		unlink(path);
	}
	rmdir(tmp_dir);
}

int
main(int argc, char **argv)
{
	char prefix[64];
	char runtime_dir[PATH_MAX];
	char *eal_args[] = {
		argv[0], "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "--no-telemetry",
		"--file-prefix", prefix, "--log-level", "lib.vhost.*:error",
		"--log-level", "pmd.net.vireo.user:error",
	};
	uint8_t *ring_mem;

	RTE_SET_USED(argc);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(prefix, sizeof(prefix), "vireo-vu-test-%d", (int)getpid());

	/* Pure cases first: they need no EAL. */
	test_parser();
	test_feature_names();

	/* EAL makes this directory even with --no-shconf; we remove it. */
	snprintf(runtime_dir, sizeof(runtime_dir), "/var/run/dpdk/%s", prefix);
	if (rte_eal_init(RTE_DIM(eal_args), eal_args) < 0) {
		printf("FAIL eal_init: %s\n", rte_strerror(rte_errno));
		rmdir(runtime_dir);
		return 1;
	}
	snprintf(runtime_dir, sizeof(runtime_dir), "%s",
		rte_eal_get_runtime_dir());
	vireo_logtype_user = rte_log_register_type_and_pick_level(
		"pmd.net.vireo.user", RTE_LOG_NOTICE);

	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/vireo-vu-XXXXXX");
	if (mkdtemp(tmp_dir) == NULL) {
		printf("FAIL mkdtemp: %s\n", strerror(errno));
		return 1;
	}

	test_hostile_backend();

	/* Rings live in EAL memory so the backend can map them. */
	ring_mem = rte_zmalloc("vireo-vu-rings", 2 * RING_SLOT, 4096);
	if (ring_mem == NULL) {
		printf("FAIL ring_alloc\n");
		failed++;
	} else {
		test_mem_table(ring_mem);
		test_mem_event();
		test_client_mode(ring_mem);
		test_server_mode();
		test_backend_disappears();
		rte_free(ring_mem);
	}

	cleanup_tmp_dir();
	rte_eal_cleanup();
	rmdir(runtime_dir);
	printf("%u passed, %u failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
