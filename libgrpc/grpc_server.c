/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The server object: method and route tables, listeners handed in by
 * the process that bound them, the connection list and shutdown.
 */

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"
#include "grpc_int.h"

static void	 server_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	 server_accept_error(struct evconnlistener *, void *);
static void	 server_retry(evutil_socket_t, short, void *);
static void	 server_listener_free(struct grpc_listener *);
static void	 server_done(evutil_socket_t, short, void *);
static void	 server_maybe_done(struct grpc_server *);
static void	 server_evict(struct grpc_server *);

struct grpc_server *
grpc_server_new(struct event_base *base, SSL_CTX *ctx, size_t max_msg)
{
	struct grpc_server	*srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->gs_base = base;
	srv->gs_ctx = ctx;
	srv->gs_max_msg = max_msg ? max_msg : GRPC_FRAME_MAX_DEFAULT;
	srv->gs_queue_limit = GRPC_QUEUE_DEFAULT;
	srv->gs_max_conns = GRPC_MAX_CONNS_DEFAULT;
	srv->gs_max_handshakes = GRPC_MAX_HANDSHAKES_DEFAULT;
	TAILQ_INIT(&srv->gs_methods);
	TAILQ_INIT(&srv->gs_routes);
	TAILQ_INIT(&srv->gs_listeners);
	TAILQ_INIT(&srv->gs_conns);
	TAILQ_INIT(&srv->gs_handshakes);
	if ((srv->gs_version = strdup("")) == NULL) {
		free(srv);
		return NULL;
	}
	return srv;
}

void
grpc_server_free(struct grpc_server *srv)
{
	struct grpc_listener	*gl;
	struct grpc_method	*gm;
	struct grpc_route	*gr;
	struct grpc_conn	*gc;

	if (srv == NULL)
		return;
	while ((gl = TAILQ_FIRST(&srv->gs_listeners)) != NULL)
		server_listener_free(gl);
	srv->gs_done = NULL;
	while ((gc = TAILQ_FIRST(&srv->gs_conns)) != NULL)
		grpc_conn_free(gc);
	while ((gm = TAILQ_FIRST(&srv->gs_methods)) != NULL) {
		TAILQ_REMOVE(&srv->gs_methods, gm, gm_entry);
		free(gm->gm_path);
		free(gm);
	}
	while ((gr = TAILQ_FIRST(&srv->gs_routes)) != NULL) {
		TAILQ_REMOVE(&srv->gs_routes, gr, gr_entry);
		free(gr->gr_path);
		free(gr);
	}
	if (srv->gs_done_ev != NULL)
		event_free(srv->gs_done_ev);
	free(srv->gs_version);
	free(srv);
}

/*
 * Takes ownership of fd: it is closed with the listener, or at once if
 * the listener cannot be set up.
 */
int
grpc_server_listen_fd(struct grpc_server *srv, int fd)
{
	struct grpc_listener	*gl;

	if ((gl = calloc(1, sizeof(*gl))) == NULL) {
		close(fd);
		return -1;
	}
	gl->gl_srv = srv;
	evutil_make_socket_nonblocking(fd);
	/* backlog 0: the socket is already listening. */
	gl->gl_lev = evconnlistener_new(srv->gs_base, server_accept, gl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	gl->gl_retry = evtimer_new(srv->gs_base, server_retry, gl);
	if (gl->gl_lev == NULL || gl->gl_retry == NULL) {
		if (gl->gl_lev == NULL)
			close(fd);
		server_listener_free(gl);
		return -1;
	}
	evconnlistener_set_error_cb(gl->gl_lev, server_accept_error);
	TAILQ_INSERT_TAIL(&srv->gs_listeners, gl, gl_entry);
	return 0;
}

static void
server_listener_free(struct grpc_listener *gl)
{
	struct grpc_listener	*it;

	TAILQ_FOREACH(it, &gl->gl_srv->gs_listeners, gl_entry)
		if (it == gl) {
			TAILQ_REMOVE(&gl->gl_srv->gs_listeners, gl, gl_entry);
			break;
		}
	if (gl->gl_lev != NULL)
		evconnlistener_free(gl->gl_lev);
	if (gl->gl_retry != NULL)
		event_free(gl->gl_retry);
	free(gl);
}

static void
server_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct grpc_listener	*gl = arg;

	(void)lev;
	(void)sa;
	(void)salen;
	grpc_server_accept_fd(gl->gl_srv, fd);
}

/* Out of fds: stop accepting for a second instead of spinning. */
static void
server_accept_error(struct evconnlistener *lev, void *arg)
{
	struct grpc_listener	*gl = arg;
	struct timeval		 tv = { 1, 0 };
	int			 err = EVUTIL_SOCKET_ERROR();

	log_warnx("grpc: accept: %s", evutil_socket_error_to_string(err));
	evconnlistener_disable(lev);
	evtimer_add(gl->gl_retry, &tv);
}

static void
server_retry(evutil_socket_t fd, short ev, void *arg)
{
	struct grpc_listener	*gl = arg;

	(void)fd;
	(void)ev;
	evconnlistener_enable(gl->gl_lev);
}

/* Takes ownership of fd, which is closed on any failure. */
int
grpc_server_accept_fd(struct grpc_server *srv, int fd)
{
	struct grpc_conn	*gc;

	if (!srv->gs_shutdown && (srv->gs_nconns >= srv->gs_max_conns ||
	    srv->gs_nhandshakes >= srv->gs_max_handshakes))
		server_evict(srv);
	if (srv->gs_shutdown || srv->gs_nconns >= srv->gs_max_conns) {
		log_debug("grpc: refusing connection (%s)",
		    srv->gs_shutdown ? "shutting down" : "too many");
		close(fd);
		return -1;
	}
	if ((gc = grpc_conn_new(srv, fd)) == NULL)
		return -1;
	TAILQ_INSERT_TAIL(&srv->gs_conns, gc, gc_entry);
	TAILQ_INSERT_TAIL(&srv->gs_handshakes, gc, gc_hs_entry);
	srv->gs_nconns++;
	srv->gs_nhandshakes++;
	return 0;
}

/*
 * Anyone can open connections that never finish the handshake and
 * hold them until its timeout; the oldest of those gives way to a
 * newcomer, which may be a client with a certificate.  Connections
 * past the handshake have authenticated and are never dropped here.
 */
static void
server_evict(struct grpc_server *srv)
{
	struct grpc_conn	*gc;

	if ((gc = TAILQ_FIRST(&srv->gs_handshakes)) == NULL)
		return;
	log_debug("grpc: closing the oldest connection still in handshake");
	grpc_conn_kill(gc);
}

/*
 * The connection left CONN_HANDSHAKE: authenticated, or about to be
 * freed.  Called once, before its mode changes.
 */
void
grpc_server_handshake_over(struct grpc_server *srv, struct grpc_conn *gc)
{
	TAILQ_REMOVE(&srv->gs_handshakes, gc, gc_hs_entry);
	srv->gs_nhandshakes--;
}

int
grpc_server_method(struct grpc_server *srv, const char *path,
    enum grpc_kind kind, grpc_handler_fn *fn, void *arg)
{
	struct grpc_method	*gm;

	if (grpc_server_lookup(srv, path) != NULL)
		return -1;
	if ((gm = calloc(1, sizeof(*gm))) == NULL)
		return -1;
	if ((gm->gm_path = strdup(path)) == NULL) {
		free(gm);
		return -1;
	}
	gm->gm_kind = kind;
	gm->gm_fn = fn;
	gm->gm_arg = arg;
	TAILQ_INSERT_TAIL(&srv->gs_methods, gm, gm_entry);
	return 0;
}

struct grpc_method *
grpc_server_lookup(struct grpc_server *srv, const char *path)
{
	struct grpc_method	*gm;

	TAILQ_FOREACH(gm, &srv->gs_methods, gm_entry)
		if (strcmp(gm->gm_path, path) == 0)
			return gm;
	return NULL;
}

int
grpc_server_connect(struct grpc_server *srv, const char *path,
    grpc_http_fn *fn, void *arg)
{
	struct grpc_route	*gr;

	if (grpc_server_route(srv, path) != NULL)
		return -1;
	if ((gr = calloc(1, sizeof(*gr))) == NULL)
		return -1;
	if ((gr->gr_path = strdup(path)) == NULL) {
		free(gr);
		return -1;
	}
	gr->gr_fn = fn;
	gr->gr_arg = arg;
	TAILQ_INSERT_TAIL(&srv->gs_routes, gr, gr_entry);
	return 0;
}

struct grpc_route *
grpc_server_route(struct grpc_server *srv, const char *path)
{
	struct grpc_route	*gr;

	TAILQ_FOREACH(gr, &srv->gs_routes, gr_entry)
		if (strcmp(gr->gr_path, path) == 0)
			return gr;
	return NULL;
}

void
grpc_server_version(struct grpc_server *srv, const char *version)
{
	char	*v;

	if ((v = strdup(version)) == NULL)
		return;
	free(srv->gs_version);
	srv->gs_version = v;
}

void
grpc_server_queue_limit(struct grpc_server *srv, size_t limit)
{
	srv->gs_queue_limit = limit;
}

void
grpc_server_max_conns(struct grpc_server *srv, size_t n)
{
	srv->gs_max_conns = n;
}

void
grpc_server_max_handshakes(struct grpc_server *srv, size_t n)
{
	srv->gs_max_handshakes = n;
}

size_t
grpc_server_nconns(const struct grpc_server *srv)
{
	return srv->gs_nconns;
}

void
grpc_server_shutdown(struct grpc_server *srv, grpc_done_fn *done, void *arg)
{
	struct grpc_listener	*gl;
	struct grpc_conn	*gc, *next;

	srv->gs_shutdown = 1;
	srv->gs_done = done;
	srv->gs_done_arg = arg;
	while ((gl = TAILQ_FIRST(&srv->gs_listeners)) != NULL)
		server_listener_free(gl);
	TAILQ_FOREACH_SAFE(gc, &srv->gs_conns, gc_entry, next)
		grpc_conn_shutdown(gc);
	server_maybe_done(srv);
}

/* Called by grpc_conn_free after unlinking a connection. */
void
grpc_server_conn_gone(struct grpc_server *srv)
{
	srv->gs_nconns--;
	server_maybe_done(srv);
}

static void
server_maybe_done(struct grpc_server *srv)
{
	struct timeval	 tv = { 0, 0 };

	if (!srv->gs_shutdown || srv->gs_nconns != 0 || srv->gs_done == NULL)
		return;
	/* From the loop, never from inside whatever closed the last conn. */
	if (srv->gs_done_ev == NULL &&
	    (srv->gs_done_ev = evtimer_new(srv->gs_base, server_done,
	    srv)) == NULL) {
		log_warnx("grpc: cannot schedule shutdown completion");
		return;
	}
	evtimer_add(srv->gs_done_ev, &tv);
}

static void
server_done(evutil_socket_t fd, short ev, void *arg)
{
	struct grpc_server	*srv = arg;
	grpc_done_fn		*done;

	(void)fd;
	(void)ev;
	if ((done = srv->gs_done) == NULL)
		return;
	srv->gs_done = NULL;
	done(srv->gs_done_arg);
}
