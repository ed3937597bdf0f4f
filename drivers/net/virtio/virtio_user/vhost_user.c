/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The Vireo Authors
 */

/* accept4() and MSG_CMSG_CLOEXEC are GNU extensions. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_log.h>

#include "vhost_user.h"

#define VU_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vireo_logtype_user, \
		"vireo_user: " fmt "\n", ## __VA_ARGS__)

/* Largest request we build: SET_MEM_TABLE with every region filled. */
#define VU_MEM_REGION_WIRE_SIZE	32u
#define VU_MEM_TABLE_HEAD_SIZE	8u
#define VU_MAX_REQUEST_PAYLOAD \
	(VU_MEM_TABLE_HEAD_SIZE + \
	 VIREO_VHOST_USER_MAX_REGIONS * VU_MEM_REGION_WIRE_SIZE)

/* SET_VRING_ADDR payload: index, flags, then four u64 addresses. */
#define VU_VRING_ADDR_WIRE_SIZE	40u

static void
put_u32(uint8_t *at, uint32_t value)
{
	/* The protocol uses the byte order of the host both ends share. */
	memcpy(at, &value, sizeof(value));
}

static void
put_u64(uint8_t *at, uint64_t value)
{
	memcpy(at, &value, sizeof(value));
}

static uint32_t
get_u32(const uint8_t *at)
{
	uint32_t value;

	memcpy(&value, at, sizeof(value));
	return value;
}

static uint64_t
get_u64(const uint8_t *at)
{
	uint64_t value;

	memcpy(&value, at, sizeof(value));
	return value;
}

const char *
vireo_vhost_user_request_name(uint32_t request)
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

const char *
vireo_vhost_user_strerror(int err)
{
	static const char *const texts[] = {
		[VIREO_VHOST_USER_E_DISCONNECTED - VIREO_VHOST_USER_E_BASE] =
			"backend disconnected",
		[VIREO_VHOST_USER_E_TIMEOUT - VIREO_VHOST_USER_E_BASE] =
			"timed out waiting for the backend's reply",
		[VIREO_VHOST_USER_E_SHORT_HEADER - VIREO_VHOST_USER_E_BASE] =
			"reply shorter than a message header",
		[VIREO_VHOST_USER_E_BAD_VERSION - VIREO_VHOST_USER_E_BASE] =
			"reply has an unsupported protocol version",
		[VIREO_VHOST_USER_E_NOT_REPLY - VIREO_VHOST_USER_E_BASE] =
			"message from the backend is not flagged as a reply",
		[VIREO_VHOST_USER_E_WRONG_REQUEST - VIREO_VHOST_USER_E_BASE] =
			"reply answers another request",
		[VIREO_VHOST_USER_E_BAD_SIZE - VIREO_VHOST_USER_E_BASE] =
			"reply payload size is wrong for the request",
		[VIREO_VHOST_USER_E_TRUNCATED - VIREO_VHOST_USER_E_BASE] =
			"reply payload truncated",
		[VIREO_VHOST_USER_E_TRAILING_BYTES - VIREO_VHOST_USER_E_BASE] =
			"bytes after the reply payload",
		[VIREO_VHOST_USER_E_UNEXPECTED_FDS - VIREO_VHOST_USER_E_BASE] =
			"file descriptors attached to a reply",
		[VIREO_VHOST_USER_E_NACK - VIREO_VHOST_USER_E_BASE] =
			"backend rejected the request",
		[VIREO_VHOST_USER_E_WRONG_INDEX - VIREO_VHOST_USER_E_BASE] =
			"reply names another vring",
		[VIREO_VHOST_USER_E_FEATURES - VIREO_VHOST_USER_E_BASE] =
			"backend lacks required features",
		[VIREO_VHOST_USER_E_TOO_MANY_REGIONS - VIREO_VHOST_USER_E_BASE] =
			"too many memory regions for SET_MEM_TABLE",
		[VIREO_VHOST_USER_E_NO_REPLY_EXPECTED - VIREO_VHOST_USER_E_BASE] =
			"no reply is defined for this request",
		[VIREO_VHOST_USER_E_BAD_VALUE - VIREO_VHOST_USER_E_BASE] =
			"reply value out of range",
	};
	int code = -err;

	if (err >= 0)
		return "success";
	if (code > VIREO_VHOST_USER_E_BASE && code < VIREO_VHOST_USER_E_END)
		return texts[code - VIREO_VHOST_USER_E_BASE];
	return strerror(code);
}

/*
 * Payload size the reply to request must have, 0 when the request never
 * gets one. Requests that answer with data answer with one u64 or one
 * vring state (also 8 bytes); all others may only get the REPLY_ACK u64.
 */
static uint32_t
reply_payload_size(uint32_t request)
{
	switch (request) {
	case VIREO_VHOST_USER_GET_FEATURES:
	case VIREO_VHOST_USER_GET_PROTOCOL_FEATURES:
	case VIREO_VHOST_USER_GET_QUEUE_NUM:
	case VIREO_VHOST_USER_GET_STATUS:
	case VIREO_VHOST_USER_GET_VRING_BASE:
	case VIREO_VHOST_USER_SET_FEATURES:
	case VIREO_VHOST_USER_SET_OWNER:
	case VIREO_VHOST_USER_RESET_OWNER:
	case VIREO_VHOST_USER_SET_MEM_TABLE:
	case VIREO_VHOST_USER_SET_VRING_NUM:
	case VIREO_VHOST_USER_SET_VRING_ADDR:
	case VIREO_VHOST_USER_SET_VRING_BASE:
	case VIREO_VHOST_USER_SET_VRING_KICK:
	case VIREO_VHOST_USER_SET_VRING_CALL:
	case VIREO_VHOST_USER_SET_VRING_ERR:
	case VIREO_VHOST_USER_SET_PROTOCOL_FEATURES:
	case VIREO_VHOST_USER_SET_VRING_ENABLE:
	case VIREO_VHOST_USER_NET_SET_MTU:
	case VIREO_VHOST_USER_SET_STATUS:
		return 8;
	default:
		return 0;
	}
}

int
vireo_vhost_user_parse_reply(const void *bytes, size_t len, int nfds,
		uint32_t expected_request, struct vireo_vhost_user_msg *out)
{
	const uint8_t *raw = bytes;
	uint32_t request, flags, size, want_size;

	/* Checks go from framing to meaning so each fault has one code. */
	if (bytes == NULL || len < VIREO_VHOST_USER_HDR_SIZE)
		return -VIREO_VHOST_USER_E_SHORT_HEADER;

	request = get_u32(raw);
	flags = get_u32(raw + 4);
	size = get_u32(raw + 8);

	if ((flags & VIREO_VHOST_USER_VERSION_MASK) != VIREO_VHOST_USER_VERSION)
		return -VIREO_VHOST_USER_E_BAD_VERSION;
	/* A backend must never ask us for a reply on the main channel. */
	if (!(flags & VIREO_VHOST_USER_FLAG_REPLY) ||
	    (flags & VIREO_VHOST_USER_FLAG_NEED_REPLY))
		return -VIREO_VHOST_USER_E_NOT_REPLY;
	if (request != expected_request)
		return -VIREO_VHOST_USER_E_WRONG_REQUEST;
	if (nfds != 0)
		return -VIREO_VHOST_USER_E_UNEXPECTED_FDS;

	want_size = reply_payload_size(expected_request);
	if (want_size == 0)
		return -VIREO_VHOST_USER_E_NO_REPLY_EXPECTED;
	if (size != want_size)
		return -VIREO_VHOST_USER_E_BAD_SIZE;
	if (len - VIREO_VHOST_USER_HDR_SIZE < size)
		return -VIREO_VHOST_USER_E_TRUNCATED;
	if (len - VIREO_VHOST_USER_HDR_SIZE > size)
		return -VIREO_VHOST_USER_E_TRAILING_BYTES;

	if (out != NULL) {
		memset(out, 0, sizeof(*out));
		out->request = request;
		out->flags = flags;
		out->size = size;
		/* Every accepted payload is 8 bytes; the union views both. */
		out->payload.u64 = get_u64(raw + VIREO_VHOST_USER_HDR_SIZE);
		memcpy(&out->payload.state, raw + VIREO_VHOST_USER_HDR_SIZE,
			sizeof(out->payload.state));
	}
	return 0;
}

int
vireo_vhost_user_init(struct vireo_vhost_user *conn, const char *path,
		int timeout_ms)
{
	if (conn == NULL || path == NULL || path[0] == '\0')
		return -EINVAL;

	memset(conn, 0, sizeof(*conn));
	conn->sock_fd = -1;
	conn->listen_fd = -1;
	conn->timeout_ms = timeout_ms > 0 ? timeout_ms :
		VIREO_VHOST_USER_DEFAULT_TIMEOUT_MS;
	/* sun_path must hold the terminating NUL as well. */
	if (strlen(path) >= sizeof(conn->path) ||
	    strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	strcpy(conn->path, path);
	return 0;
}

static void
fill_sockaddr(const struct vireo_vhost_user *conn, struct sockaddr_un *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, conn->path, strlen(conn->path) + 1);
}

/* A fresh connection is a fresh session: nothing negotiated yet. */
static void
session_start(struct vireo_vhost_user *conn, int fd)
{
	conn->sock_fd = fd;
	conn->features = 0;
	conn->protocol_features = 0;
}

bool
vireo_vhost_user_connected(const struct vireo_vhost_user *conn)
{
	return conn != NULL && conn->sock_fd >= 0;
}

int
vireo_vhost_user_try_connect(struct vireo_vhost_user *conn)
{
	struct sockaddr_un addr;
	int fd, err;

	if (conn == NULL || conn->server)
		return -EINVAL;
	if (conn->sock_fd >= 0)
		return -EISCONN;

	/* Non-blocking from the start: connect and I/O never stall probe. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;

	fill_sockaddr(conn, &addr);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
		session_start(conn, fd);
		VU_LOG(INFO, "connected to backend at %s", conn->path);
		return 0;
	}
	err = errno;
	close(fd);

	switch (err) {
	case EAGAIN:
	case EINPROGRESS:
	case EINTR:
		/* Listener backlog full (AF_UNIX never goes half-open). */
		return -EAGAIN;
	case ECONNREFUSED:
	case ENOENT:
		/* Backend not there yet: same meaning for the caller. */
		return -ECONNREFUSED;
	default:
		VU_LOG(ERR, "connect to %s: %s", conn->path, strerror(err));
		return -err;
	}
}

/*
 * Does a process listen on path?  Only a connect tells (across network
 * namespaces too); the listener sees a connection that closes at once,
 * which vhost-user peers take as a backend that went away.
 */
static bool
socket_in_use(const struct vireo_vhost_user *conn)
{
	struct sockaddr_un addr;
	bool live;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	fill_sockaddr(conn, &addr);
	/* EAGAIN: a listener with a full backlog is a listener too. */
	live = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 ||
		errno == EAGAIN;
	close(fd);
	return live;
}

int
vireo_vhost_user_listen(struct vireo_vhost_user *conn)
{
	struct sockaddr_un addr;
	struct stat st;
	int fd, err;

	if (conn == NULL)
		return -EINVAL;
	if (conn->listen_fd >= 0 || conn->sock_fd >= 0)
		return -EISCONN;

	/* Replace a stale socket from a previous run, never another file
	 * nor a socket someone still listens on. */
	if (lstat(conn->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			VU_LOG(ERR, "%s exists and is not a socket", conn->path);
			return -EEXIST;
		}
		if (socket_in_use(conn)) {
			VU_LOG(ERR, "%s is in use: another process listens on it",
				conn->path);
			return -EADDRINUSE;
		}
		if (unlink(conn->path) != 0)
			return -errno;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;

	fill_sockaddr(conn, &addr);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		goto fail;
	/* One backend per device; a backlog of one is enough. */
	if (listen(fd, 1) != 0) {
		err = errno;
		close(fd);
		unlink(conn->path);
		return -err;
	}

	conn->listen_fd = fd;
	conn->server = true;
	VU_LOG(INFO, "waiting for backend on %s", conn->path);
	return 0;

fail:
	err = errno;
	close(fd);
	VU_LOG(ERR, "cannot listen on %s: %s", conn->path, strerror(err));
	return -err;
}

int
vireo_vhost_user_try_accept(struct vireo_vhost_user *conn)
{
	int fd;

	if (conn == NULL || conn->listen_fd < 0)
		return -EINVAL;
	if (conn->sock_fd >= 0)
		return -EISCONN;

	fd = accept4(conn->listen_fd, NULL, NULL,
		SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		switch (errno) {
		case EAGAIN:
		case EINTR:
		case ECONNABORTED:
			/* Nobody (still) waiting: the caller polls again. */
			return -EAGAIN;
		default:
			return -errno;
		}
	}
	session_start(conn, fd);
	VU_LOG(INFO, "backend connected on %s", conn->path);
	return 0;
}

int
vireo_vhost_user_check_peer(struct vireo_vhost_user *conn)
{
	struct pollfd pfd;
	uint8_t byte;
	ssize_t got;

	if (conn == NULL)
		return -EINVAL;
	if (conn->sock_fd < 0)
		return -ENOTCONN;

	pfd.fd = conn->sock_fd;
	pfd.events = POLLIN | POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;	/* nothing happened (or EINTR: look again later) */

	/* Peek, so nothing is consumed when the answer is "still there". */
	got = recv(conn->sock_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR) ||
	    (pfd.revents & (POLLHUP | POLLERR))) {
		VU_LOG(INFO, "backend on %s hung up", conn->path);
		vireo_vhost_user_disconnect(conn);
		return -VIREO_VHOST_USER_E_DISCONNECTED;
	}
	if (got > 0) {
		/* The backend only speaks when spoken to on this channel. */
		VU_LOG(ERR, "unsolicited bytes from backend on %s", conn->path);
		vireo_vhost_user_disconnect(conn);
		return -VIREO_VHOST_USER_E_NOT_REPLY;
	}
	return 0;
}

void
vireo_vhost_user_disconnect(struct vireo_vhost_user *conn)
{
	if (conn == NULL || conn->sock_fd < 0)
		return;
	close(conn->sock_fd);
	conn->sock_fd = -1;
}

void
vireo_vhost_user_close(struct vireo_vhost_user *conn)
{
	if (conn == NULL)
		return;
	vireo_vhost_user_disconnect(conn);
	if (conn->listen_fd >= 0) {
		close(conn->listen_fd);
		conn->listen_fd = -1;
	}
	if (conn->server) {
		unlink(conn->path);
		conn->server = false;
	}
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until the socket is ready for events or the deadline passes.
 * 0 when ready, otherwise a negated error.
 */
static int
wait_socket(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int ret;

	for (;;) {
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		ret = poll(&pfd, 1, (int)left);
		if (ret > 0) {
			/* POLLHUP with data pending still lets us read it. */
			if ((pfd.revents & (POLLERR | POLLNVAL)) ||
			    ((pfd.revents & POLLHUP) && !(pfd.revents & POLLIN)))
				return -VIREO_VHOST_USER_E_DISCONNECTED;
			return 0;
		}
		if (ret == 0)
			return -VIREO_VHOST_USER_E_TIMEOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Lost stream sync or peer: the connection is unusable from here on. */
static int
fail_connection(struct vireo_vhost_user *conn, uint32_t request, int err)
{
	VU_LOG(ERR, "%s on %s: %s; closing connection",
		vireo_vhost_user_request_name(request), conn->path,
		vireo_vhost_user_strerror(err));
	vireo_vhost_user_disconnect(conn);
	return err;
}

static int
send_message(struct vireo_vhost_user *conn, const uint8_t *buf, size_t len,
		const int *fds, unsigned int nfds, int64_t deadline)
{
	union {
		char space[CMSG_SPACE(sizeof(int) *
			VIREO_VHOST_USER_MAX_REGIONS)];
		struct cmsghdr align;
	} control;
	struct msghdr mh;
	struct iovec iov;
	size_t done = 0;
	ssize_t sent;
	int ret;

	while (done < len) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = (void *)(uintptr_t)(buf + done);
		iov.iov_len = len - done;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		/* Descriptors ride with the first byte only. */
		if (done == 0 && nfds > 0) {
			struct cmsghdr *cmsg;

			memset(&control, 0, sizeof(control));
			mh.msg_control = control.space;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			cmsg = CMSG_FIRSTHDR(&mh);
			cmsg->cmsg_level = SOL_SOCKET;
			cmsg->cmsg_type = SCM_RIGHTS;
			cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
		}
		/* MSG_NOSIGNAL: a vanished peer is an error, not SIGPIPE. */
		sent = sendmsg(conn->sock_fd, &mh, MSG_NOSIGNAL);
		if (sent > 0) {
			done += (size_t)sent;
			continue;
		}
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ret = wait_socket(conn->sock_fd, POLLOUT, deadline);
			if (ret < 0)
				return ret;
			continue;
		}
		if (sent < 0 && (errno == EPIPE || errno == ECONNRESET))
			return -VIREO_VHOST_USER_E_DISCONNECTED;
		return sent < 0 ? -errno : -VIREO_VHOST_USER_E_DISCONNECTED;
	}
	return 0;
}

/* Close every descriptor that came in ancillary data; we keep none. */
static int
drop_received_fds(struct msghdr *mh)
{
	struct cmsghdr *cmsg;
	int count = 0;

	for (cmsg = CMSG_FIRSTHDR(mh); cmsg != NULL;
	     cmsg = CMSG_NXTHDR(mh, cmsg)) {
		size_t nbytes, i;

		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		nbytes = cmsg->cmsg_len - CMSG_LEN(0);
		for (i = 0; i + sizeof(int) <= nbytes; i += sizeof(int)) {
			int fd;

			memcpy(&fd, CMSG_DATA(cmsg) + i, sizeof(fd));
			close(fd);
			count++;
		}
	}
	return count;
}

/* Read exactly len bytes (len > 0), counting any descriptors received. */
static int
recv_bytes(struct vireo_vhost_user *conn, uint8_t *buf, size_t len,
		int *nfds, int64_t deadline)
{
	union {
		char space[CMSG_SPACE(sizeof(int) *
			VIREO_VHOST_USER_MAX_REGIONS)];
		struct cmsghdr align;
	} control;
	struct msghdr mh;
	struct iovec iov;
	size_t done = 0;
	ssize_t got;
	int ret;

	while (done < len) {
		ret = wait_socket(conn->sock_fd, POLLIN, deadline);
		if (ret < 0)
			return ret;

		memset(&mh, 0, sizeof(mh));
		iov.iov_base = buf + done;
		iov.iov_len = len - done;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = control.space;
		mh.msg_controllen = sizeof(control.space);
		got = recvmsg(conn->sock_fd, &mh, MSG_CMSG_CLOEXEC);
		if (got == 0)
			return -VIREO_VHOST_USER_E_DISCONNECTED;
		if (got < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			if (errno == ECONNRESET || errno == EPIPE)
				return -VIREO_VHOST_USER_E_DISCONNECTED;
			return -errno;
		}
		*nfds += drop_received_fds(&mh);
		/* The kernel dropped some: count one more than we allow. */
		if (mh.msg_flags & MSG_CTRUNC)
			*nfds += 1;
		done += (size_t)got;
	}
	return 0;
}

static int
recv_reply(struct vireo_vhost_user *conn, uint32_t request,
		struct vireo_vhost_user_msg *reply, int64_t deadline)
{
	uint8_t buf[VIREO_VHOST_USER_HDR_SIZE +
		VIREO_VHOST_USER_MAX_REPLY_PAYLOAD];
	size_t len = VIREO_VHOST_USER_HDR_SIZE;
	uint32_t size;
	int nfds = 0;
	int ret;

	ret = recv_bytes(conn, buf, VIREO_VHOST_USER_HDR_SIZE, &nfds,
		deadline);
	if (ret < 0)
		return ret;

	/*
	 * Read no more than the largest valid payload; a bigger size is
	 * rejected by the parser from the header alone.
	 */
	size = get_u32(buf + 8);
	if (size <= VIREO_VHOST_USER_MAX_REPLY_PAYLOAD && size > 0) {
		ret = recv_bytes(conn, buf + len, size, &nfds, deadline);
		if (ret < 0)
			return ret;
		len += size;
	}
	return vireo_vhost_user_parse_reply(buf, len, nfds, request, reply);
}

/*
 * Send one request and, when want_reply, wait for its reply. Any failure
 * other than a NACK leaves the stream out of sync and drops the link.
 */
static int
transact(struct vireo_vhost_user *conn, uint32_t request, uint32_t flags,
		const uint8_t *payload, uint32_t size, const int *fds,
		unsigned int nfds, bool want_reply,
		struct vireo_vhost_user_msg *reply)
{
	uint8_t buf[VIREO_VHOST_USER_HDR_SIZE + VU_MAX_REQUEST_PAYLOAD];
	int64_t deadline;
	int ret;

	if (conn == NULL)
		return -EINVAL;
	if (conn->sock_fd < 0)
		return -ENOTCONN;
	if (size > VU_MAX_REQUEST_PAYLOAD ||
	    nfds > VIREO_VHOST_USER_MAX_REGIONS)
		return -EINVAL;

	put_u32(buf, request);
	put_u32(buf + 4, VIREO_VHOST_USER_VERSION | flags);
	put_u32(buf + 8, size);
	if (size > 0)
		memcpy(buf + VIREO_VHOST_USER_HDR_SIZE, payload, size);

	deadline = now_ms() + conn->timeout_ms;
	ret = send_message(conn, buf, VIREO_VHOST_USER_HDR_SIZE + size,
		fds, nfds, deadline);
	if (ret < 0)
		return fail_connection(conn, request, ret);
	VU_LOG(DEBUG, "sent %s (%u payload bytes, %u fds)",
		vireo_vhost_user_request_name(request), size, nfds);
	if (!want_reply)
		return 0;

	ret = recv_reply(conn, request, reply, deadline);
	if (ret < 0)
		return fail_connection(conn, request, ret);
	return 0;
}

/* A request that returns data of its own (GET_*). */
static int
request_with_reply(struct vireo_vhost_user *conn, uint32_t request,
		const uint8_t *payload, uint32_t size,
		struct vireo_vhost_user_msg *reply)
{
	return transact(conn, request, 0, payload, size, NULL, 0, true, reply);
}

/*
 * A request with no reply of its own. With REPLY_ACK negotiated we ask
 * for the ack so a refusal is reported here instead of the backend just
 * dropping the connection (which is what librte_vhost does otherwise).
 */
static int
request_no_reply(struct vireo_vhost_user *conn, uint32_t request,
		const uint8_t *payload, uint32_t size, const int *fds,
		unsigned int nfds)
{
	struct vireo_vhost_user_msg ack;
	bool want_ack;
	int ret;

	if (conn == NULL)
		return -EINVAL;
	want_ack = conn->protocol_features &
		(1ULL << VIREO_VHOST_USER_PROTOCOL_F_REPLY_ACK);
	ret = transact(conn, request,
		want_ack ? VIREO_VHOST_USER_FLAG_NEED_REPLY : 0,
		payload, size, fds, nfds, want_ack, &ack);
	if (ret < 0)
		return ret;
	if (want_ack && ack.payload.u64 != 0) {
		VU_LOG(ERR, "backend refused %s (status %" PRIu64 ")",
			vireo_vhost_user_request_name(request),
			ack.payload.u64);
		return -VIREO_VHOST_USER_E_NACK;
	}
	return 0;
}

static int
send_u64(struct vireo_vhost_user *conn, uint32_t request, uint64_t value)
{
	uint8_t payload[8];

	put_u64(payload, value);
	return request_no_reply(conn, request, payload, sizeof(payload),
		NULL, 0);
}

static int
get_u64_reply(struct vireo_vhost_user *conn, uint32_t request,
		uint64_t *value)
{
	struct vireo_vhost_user_msg reply;
	int ret;

	if (value == NULL)
		return -EINVAL;
	ret = request_with_reply(conn, request, NULL, 0, &reply);
	if (ret < 0)
		return ret;
	*value = reply.payload.u64;
	return 0;
}

static int
send_vring_state(struct vireo_vhost_user *conn, uint32_t request,
		uint32_t queue_index, uint32_t num)
{
	uint8_t payload[8];

	put_u32(payload, queue_index);
	put_u32(payload + 4, num);
	return request_no_reply(conn, request, payload, sizeof(payload),
		NULL, 0);
}

static bool
has_protocol_feature(const struct vireo_vhost_user *conn, unsigned int bit)
{
	return (conn->protocol_features >> bit) & 1;
}

int
vireo_vhost_user_set_owner(struct vireo_vhost_user *conn)
{
	return request_no_reply(conn, VIREO_VHOST_USER_SET_OWNER, NULL, 0,
		NULL, 0);
}

int
vireo_vhost_user_get_features(struct vireo_vhost_user *conn,
		uint64_t *features)
{
	return get_u64_reply(conn, VIREO_VHOST_USER_GET_FEATURES, features);
}

int
vireo_vhost_user_set_features(struct vireo_vhost_user *conn,
		uint64_t features)
{
	int ret;

	ret = send_u64(conn, VIREO_VHOST_USER_SET_FEATURES, features);
	if (ret == 0)
		conn->features = features;
	return ret;
}

int
vireo_vhost_user_get_protocol_features(struct vireo_vhost_user *conn,
		uint64_t *features)
{
	return get_u64_reply(conn, VIREO_VHOST_USER_GET_PROTOCOL_FEATURES,
		features);
}

int
vireo_vhost_user_set_protocol_features(struct vireo_vhost_user *conn,
		uint64_t features)
{
	int ret;

	/* Never claim what we cannot speak, whatever the caller asks. */
	if (features & ~VIREO_VHOST_USER_PROTOCOL_FEATURES_SUPPORTED)
		return -ENOTSUP;
	ret = send_u64(conn, VIREO_VHOST_USER_SET_PROTOCOL_FEATURES, features);
	/* REPLY_ACK applies to the requests after this one. */
	if (ret == 0)
		conn->protocol_features = features;
	return ret;
}

int
vireo_vhost_user_negotiate(struct vireo_vhost_user *conn,
		uint64_t wanted, uint64_t required, uint64_t wanted_protocol,
		uint64_t *negotiated, uint64_t *negotiated_protocol)
{
	const uint64_t protocol_bit = 1ULL << VIREO_VHOST_USER_F_PROTOCOL_FEATURES;
	uint64_t offered, features, protocol = 0;
	char names[512];
	int ret;

	ret = vireo_vhost_user_get_features(conn, &offered);
	if (ret < 0)
		return ret;
	vireo_virtio_net_feature_names(offered, names, sizeof(names));
	VU_LOG(DEBUG, "backend offers 0x%" PRIx64 ": %s", offered, names);

	if ((offered & required) != required) {
		vireo_virtio_net_feature_names(required & ~offered, names,
			sizeof(names));
		VU_LOG(ERR, "backend at %s lacks required features: %s",
			conn->path, names);
		return -VIREO_VHOST_USER_E_FEATURES;
	}

	/* Bit 30 is ours to manage; it is not a device feature. */
	features = offered & wanted & ~protocol_bit;

	if (offered & protocol_bit) {
		uint64_t protocol_offered;

		ret = vireo_vhost_user_get_protocol_features(conn,
			&protocol_offered);
		if (ret < 0)
			return ret;
		protocol = protocol_offered & wanted_protocol &
			VIREO_VHOST_USER_PROTOCOL_FEATURES_SUPPORTED;
		ret = vireo_vhost_user_set_protocol_features(conn, protocol);
		if (ret < 0)
			return ret;
		features |= protocol_bit;
		vireo_vhost_user_protocol_feature_names(protocol, names,
			sizeof(names));
		VU_LOG(DEBUG, "protocol features 0x%" PRIx64 ": %s",
			protocol, names);
	}

	ret = vireo_vhost_user_set_features(conn, features);
	if (ret < 0)
		return ret;
	vireo_virtio_net_feature_names(features, names, sizeof(names));
	VU_LOG(INFO, "negotiated features 0x%" PRIx64 ": %s", features, names);

	if (negotiated != NULL)
		*negotiated = features;
	if (negotiated_protocol != NULL)
		*negotiated_protocol = protocol;
	return 0;
}

int
vireo_vhost_user_get_queue_num(struct vireo_vhost_user *conn,
		uint64_t *queue_num)
{
	if (conn == NULL)
		return -EINVAL;
	if (!has_protocol_feature(conn, VIREO_VHOST_USER_PROTOCOL_F_MQ))
		return -ENOTSUP;
	return get_u64_reply(conn, VIREO_VHOST_USER_GET_QUEUE_NUM, queue_num);
}

int
vireo_vhost_user_set_mem_table(struct vireo_vhost_user *conn,
		const struct vireo_vhost_user_mem_table *table)
{
	uint8_t payload[VU_MAX_REQUEST_PAYLOAD];
	int fds[VIREO_VHOST_USER_MAX_REGIONS];
	uint32_t i;

	if (conn == NULL || table == NULL || table->nregions == 0)
		return -EINVAL;
	if (table->nregions > VIREO_VHOST_USER_MAX_REGIONS)
		return -VIREO_VHOST_USER_E_TOO_MANY_REGIONS;

	memset(payload, 0, sizeof(payload));
	put_u32(payload, table->nregions);
	/* payload + 4 is padding and stays zero. */
	for (i = 0; i < table->nregions; i++) {
		const struct vireo_vhost_user_mem_region *region =
			&table->regions[i];
		uint8_t *at = payload + VU_MEM_TABLE_HEAD_SIZE +
			i * VU_MEM_REGION_WIRE_SIZE;

		if (region->fd < 0 || region->memory_size == 0)
			return -EINVAL;
		put_u64(at, region->guest_phys_addr);
		put_u64(at + 8, region->memory_size);
		put_u64(at + 16, region->userspace_addr);
		put_u64(at + 24, region->mmap_offset);
		/* The backend pairs the i-th descriptor with region i. */
		fds[i] = region->fd;
		VU_LOG(DEBUG, "region %u: gpa 0x%" PRIx64 " size 0x%" PRIx64
			" uva 0x%" PRIx64 " offset 0x%" PRIx64 " fd %d", i,
			region->guest_phys_addr, region->memory_size,
			region->userspace_addr, region->mmap_offset,
			region->fd);
	}
	/* Only the used regions go on the wire. */
	return request_no_reply(conn, VIREO_VHOST_USER_SET_MEM_TABLE, payload,
		VU_MEM_TABLE_HEAD_SIZE +
		table->nregions * VU_MEM_REGION_WIRE_SIZE,
		fds, table->nregions);
}

int
vireo_vhost_user_set_vring_num(struct vireo_vhost_user *conn,
		uint32_t queue_index, uint32_t num)
{
	/* Both layouts top out at 32768 entries. */
	if (num == 0 || num > 32768)
		return -EINVAL;
	return send_vring_state(conn, VIREO_VHOST_USER_SET_VRING_NUM,
		queue_index, num);
}

int
vireo_vhost_user_set_vring_addr(struct vireo_vhost_user *conn,
		uint32_t queue_index, uint64_t desc_addr,
		uint64_t driver_area_addr, uint64_t device_area_addr,
		uint64_t log_addr)
{
	uint8_t payload[VU_VRING_ADDR_WIRE_SIZE];

	put_u32(payload, queue_index);
	/* Flag bit 0 would turn on dirty logging; we never do that. */
	put_u32(payload + 4, 0);
	/* Wire order is desc, used (device area), avail (driver area), log. */
	put_u64(payload + 8, desc_addr);
	put_u64(payload + 16, device_area_addr);
	put_u64(payload + 24, driver_area_addr);
	put_u64(payload + 32, log_addr);
	return request_no_reply(conn, VIREO_VHOST_USER_SET_VRING_ADDR, payload,
		sizeof(payload), NULL, 0);
}

int
vireo_vhost_user_set_vring_base(struct vireo_vhost_user *conn,
		uint32_t queue_index, uint32_t base)
{
	return send_vring_state(conn, VIREO_VHOST_USER_SET_VRING_BASE,
		queue_index, base);
}

int
vireo_vhost_user_set_vring(struct vireo_vhost_user *conn,
		uint32_t queue_index, uint32_t num, uint64_t desc_addr,
		uint64_t driver_area_addr, uint64_t device_area_addr,
		uint64_t log_addr, uint32_t base)
{
	int ret;

	ret = vireo_vhost_user_set_vring_num(conn, queue_index, num);
	if (ret < 0)
		return ret;
	ret = vireo_vhost_user_set_vring_base(conn, queue_index, base);
	if (ret < 0)
		return ret;
	return vireo_vhost_user_set_vring_addr(conn, queue_index, desc_addr,
		driver_area_addr, device_area_addr, log_addr);
}

int
vireo_vhost_user_get_vring_base(struct vireo_vhost_user *conn,
		uint32_t queue_index, uint32_t *base)
{
	struct vireo_vhost_user_msg reply;
	uint8_t payload[8];
	int ret;

	if (base == NULL)
		return -EINVAL;
	put_u32(payload, queue_index);
	put_u32(payload + 4, 0);
	ret = request_with_reply(conn, VIREO_VHOST_USER_GET_VRING_BASE,
		payload, sizeof(payload), &reply);
	if (ret < 0)
		return ret;
	if (reply.payload.state.index != queue_index)
		return fail_connection(conn, VIREO_VHOST_USER_GET_VRING_BASE,
			-VIREO_VHOST_USER_E_WRONG_INDEX);
	*base = reply.payload.state.num;
	return 0;
}

static int
send_vring_fd(struct vireo_vhost_user *conn, uint32_t request,
		uint32_t queue_index, int fd)
{
	uint8_t payload[8];
	uint64_t value;

	/* Only 8 bits of index fit beside the no-fd flag. */
	if (queue_index > VIREO_VHOST_USER_VRING_IDX_MASK)
		return -EINVAL;
	value = queue_index;
	if (fd < 0)
		value |= VIREO_VHOST_USER_VRING_NOFD;
	put_u64(payload, value);
	return request_no_reply(conn, request, payload, sizeof(payload),
		fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1);
}

int
vireo_vhost_user_set_vring_kick(struct vireo_vhost_user *conn,
		uint32_t queue_index, int fd)
{
	return send_vring_fd(conn, VIREO_VHOST_USER_SET_VRING_KICK,
		queue_index, fd);
}

int
vireo_vhost_user_set_vring_call(struct vireo_vhost_user *conn,
		uint32_t queue_index, int fd)
{
	return send_vring_fd(conn, VIREO_VHOST_USER_SET_VRING_CALL,
		queue_index, fd);
}

int
vireo_vhost_user_set_vring_err(struct vireo_vhost_user *conn,
		uint32_t queue_index, int fd)
{
	return send_vring_fd(conn, VIREO_VHOST_USER_SET_VRING_ERR,
		queue_index, fd);
}

int
vireo_vhost_user_set_vring_enable(struct vireo_vhost_user *conn,
		uint32_t queue_index, bool enable)
{
	if (conn == NULL)
		return -EINVAL;
	/*
	 * Without PROTOCOL_FEATURES the spec has rings start enabled once
	 * kicked and defines no way to disable them.
	 */
	if (!(conn->features &
	      (1ULL << VIREO_VHOST_USER_F_PROTOCOL_FEATURES)))
		return enable ? 0 : -ENOTSUP;
	return send_vring_state(conn, VIREO_VHOST_USER_SET_VRING_ENABLE,
		queue_index, enable ? 1 : 0);
}

int
vireo_vhost_user_set_mtu(struct vireo_vhost_user *conn, uint16_t mtu)
{
	if (conn == NULL)
		return -EINVAL;
	if (!has_protocol_feature(conn, VIREO_VHOST_USER_PROTOCOL_F_NET_MTU))
		return -ENOTSUP;
	return send_u64(conn, VIREO_VHOST_USER_NET_SET_MTU, mtu);
}

int
vireo_vhost_user_get_status(struct vireo_vhost_user *conn, uint8_t *status)
{
	uint64_t value;
	int ret;

	if (conn == NULL || status == NULL)
		return -EINVAL;
	if (!has_protocol_feature(conn, VIREO_VHOST_USER_PROTOCOL_F_STATUS))
		return -ENOTSUP;
	ret = get_u64_reply(conn, VIREO_VHOST_USER_GET_STATUS, &value);
	if (ret < 0)
		return ret;
	/* The device status register is 8 bits; more is a broken peer. */
	if (value > UINT8_MAX)
		return fail_connection(conn, VIREO_VHOST_USER_GET_STATUS,
			-VIREO_VHOST_USER_E_BAD_VALUE);
	*status = (uint8_t)value;
	return 0;
}

int
vireo_vhost_user_set_status(struct vireo_vhost_user *conn, uint8_t status)
{
	if (conn == NULL)
		return -EINVAL;
	if (!has_protocol_feature(conn, VIREO_VHOST_USER_PROTOCOL_F_STATUS))
		return -ENOTSUP;
	return send_u64(conn, VIREO_VHOST_USER_SET_STATUS, status);
}

/* Feature bit names, virtio 1.2 numbering, plus the vhost-user bits. */
static const char *const net_feature_names[64] = {
	[0] = "CSUM",
	[1] = "GUEST_CSUM",
	[2] = "CTRL_GUEST_OFFLOADS",
	[3] = "MTU",
	[5] = "MAC",
	[6] = "GSO",
	[7] = "GUEST_TSO4",
	[8] = "GUEST_TSO6",
	[9] = "GUEST_ECN",
	[10] = "GUEST_UFO",
	[11] = "HOST_TSO4",
	[12] = "HOST_TSO6",
	[13] = "HOST_ECN",
	[14] = "HOST_UFO",
	[15] = "MRG_RXBUF",
	[16] = "STATUS",
	[17] = "CTRL_VQ",
	[18] = "CTRL_RX",
	[19] = "CTRL_VLAN",
	[20] = "CTRL_RX_EXTRA",
	[21] = "GUEST_ANNOUNCE",
	[22] = "MQ",
	[23] = "CTRL_MAC_ADDR",
	[24] = "NOTIFY_ON_EMPTY",
	[26] = "LOG_ALL",
	[27] = "ANY_LAYOUT",
	[28] = "INDIRECT_DESC",
	[29] = "EVENT_IDX",
	[30] = "PROTOCOL_FEATURES",
	[32] = "VERSION_1",
	[33] = "ACCESS_PLATFORM",
	[34] = "RING_PACKED",
	[35] = "IN_ORDER",
	[36] = "ORDER_PLATFORM",
	[37] = "SR_IOV",
	[38] = "NOTIFICATION_DATA",
	[39] = "NOTIF_CONFIG_DATA",
	[40] = "RING_RESET",
	[52] = "VQ_NOTF_COAL",
	[53] = "NOTF_COAL",
	[54] = "GUEST_USO4",
	[55] = "GUEST_USO6",
	[56] = "HOST_USO",
	[57] = "HASH_REPORT",
	[59] = "GUEST_HDRLEN",
	[60] = "RSS",
	[61] = "RSC_EXT",
	[62] = "STANDBY",
	[63] = "SPEED_DUPLEX",
};

static const char *const protocol_feature_names[64] = {
	[0] = "MQ",
	[1] = "LOG_SHMFD",
	[2] = "RARP",
	[3] = "REPLY_ACK",
	[4] = "NET_MTU",
	[5] = "BACKEND_REQ",
	[6] = "CROSS_ENDIAN",
	[7] = "CRYPTO_SESSION",
	[8] = "PAGEFAULT",
	[9] = "CONFIG",
	[10] = "BACKEND_SEND_FD",
	[11] = "HOST_NOTIFIER",
	[12] = "INFLIGHT_SHMFD",
	[13] = "RESET_DEVICE",
	[14] = "INBAND_NOTIFICATIONS",
	[15] = "CONFIGURE_MEM_SLOTS",
	[16] = "STATUS",
};

static int
format_bits(const char *const names[64], uint64_t bits, char *buf,
		size_t len)
{
	size_t need = 0;
	unsigned int bit;

	if (buf != NULL && len > 0)
		buf[0] = '\0';
	for (bit = 0; bit < 64; bit++) {
		char unknown[8];
		const char *word;
		int n;

		if (!((bits >> bit) & 1))
			continue;
		word = names[bit];
		if (word == NULL) {
			snprintf(unknown, sizeof(unknown), "BIT%u", bit);
			word = unknown;
		}
		/* snprintf truncates safely and reports the full length. */
		n = snprintf(buf != NULL && need < len ? buf + need : NULL,
			buf != NULL && need < len ? len - need : 0,
			"%s%s", need > 0 ? " " : "", word);
		if (n > 0)
			need += (size_t)n;
	}
	return (int)need;
}

int
vireo_virtio_net_feature_names(uint64_t features, char *buf, size_t len)
{
	return format_bits(net_feature_names, features, buf, len);
}

int
vireo_vhost_user_protocol_feature_names(uint64_t features, char *buf,
		size_t len)
{
	return format_bits(protocol_feature_names, features, buf, len);
}
