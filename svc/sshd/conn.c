/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * One SSH connection after its preface: a libssh server session whose
 * socket libevent watches.  Whenever the socket is readable or
 * writable (or a channel has something to send) conn_pump runs one
 * non-blocking round of libssh's own poll, which handles packets and
 * runs the callbacks (chan.c).  Objects are freed only after that
 * round, never from inside a libssh callback.
 *
 * The key exchange runs non-blocking too, one step per socket event,
 * under a deadline: a peer that stalls it stalls only itself.
 *
 * Authentication: NSSH1 is the authentication (the gateway checked
 * the session token); SSH "none" and any public key are accepted, as
 * the reference does, and that moves the connection to CONN_AUTHED.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#include "sshd.h"

#define CONN_ROUNDS	64	/* libssh rounds per event, 4 KiB each */

static void	 conn_io(int, short, void *);
static int	 conn_auth_none(ssh_session, const char *, void *);
static int	 conn_auth_pubkey(ssh_session, const char *,
		    struct ssh_key_struct *, char, void *);
static void	 conn_authed(struct conn *, const char *);
static void	 conn_kex(struct conn *);
static void	 conn_timeout(int, short, void *);

void
conn_ssh_start(struct conn *c)
{
	struct sshd	*sd = c->c_sd;
	struct timeval	 tv = { SSHD_KEX_TIMEOUT, 0 };
	int		 fd = c->c_fd;

	if ((c->c_ssh = ssh_new()) == NULL)
		fatalx("ssh_new");
	/* From here on the session owns the socket. */
	c->c_fd = -1;
	if (ssh_bind_accept_fd(sd->sd_bind, c->c_ssh, fd) != SSH_OK) {
		log_warnx("ssh accept: %s", ssh_get_error(sd->sd_bind));
		conn_free(c);
		return;
	}
	c->c_state = CONN_PREAUTH;
	memset(&c->c_srvcb, 0, sizeof(c->c_srvcb));
	c->c_srvcb.userdata = c;
	c->c_srvcb.auth_none_function = conn_auth_none;
	c->c_srvcb.auth_pubkey_function = conn_auth_pubkey;
	c->c_srvcb.channel_open_request_session_function =
	    chan_open_session;
	ssh_callbacks_init(&c->c_srvcb);
	ssh_set_server_callbacks(c->c_ssh, &c->c_srvcb);
	ssh_set_message_callback(c->c_ssh, chan_message, c);
	ssh_set_auth_methods(c->c_ssh, SSH_AUTH_METHOD_NONE |
	    SSH_AUTH_METHOD_PUBLICKEY);
	ssh_set_blocking(c->c_ssh, 0);
	fd = ssh_get_fd(c->c_ssh);
	c->c_ev_rd = event_new(sd->sd_base, fd, EV_READ | EV_PERSIST,
	    conn_io, c);
	c->c_ev_wr = event_new(sd->sd_base, fd, EV_WRITE, conn_io, c);
	/* A new deadline: the key exchange's. */
	event_free(c->c_timer);
	c->c_timer = evtimer_new(sd->sd_base, conn_timeout, c);
	if (c->c_ev_rd == NULL || c->c_ev_wr == NULL || c->c_timer == NULL ||
	    event_add(c->c_ev_rd, NULL) == -1 ||
	    evtimer_add(c->c_timer, &tv) == -1)
		fatalx("%s: event_add", __func__);
	conn_kex(c);
}

/*
 * The key exchange, non-blocking: one step per socket event, so that
 * a slow peer stalls nobody else.  Then the session joins its own
 * ssh_event, which conn_pump polls.
 */
static void
conn_kex(struct conn *c)
{
	int	 rc;

	rc = ssh_handle_key_exchange(c->c_ssh);
	if (rc == SSH_AGAIN) {
		if (ssh_get_poll_flags(c->c_ssh) & SSH_WRITE_PENDING)
			event_add(c->c_ev_wr, NULL);
		return;
	}
	if (rc != SSH_OK) {
		log_warnx("key exchange: %s", ssh_get_error(c->c_ssh));
		conn_free(c);
		return;
	}
	event_del(c->c_timer);
	if ((c->c_sev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(c->c_sev, c->c_ssh) != SSH_OK)
		fatalx("ssh_event");
	conn_pump(c);
}

static void
conn_io(int fd, short event, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	(void)event;
	if (c->c_sev == NULL)
		conn_kex(c);
	else
		conn_pump(c);
}

static void
conn_timeout(int fd, short event, void *arg)
{
	(void)fd;
	(void)event;
	log_warnx("key exchange: timeout");
	conn_free(arg);
}

/*
 * One round of libssh: packets in, callbacks, pending output out.  The
 * connection may be freed on return: callers must not touch it after.
 */
void
conn_pump(struct conn *c)
{
	struct chan	*ch, *next;
	int		 st, rc, i;

	if (c->c_inpump || c->c_sev == NULL)
		return;
	c->c_inpump = 1;
	/*
	 * libssh reads 4 KiB per round: take what the socket holds now
	 * (a bounded number of rounds, fair to other connections) rather
	 * than one event loop turn per 4 KiB.
	 */
	for (i = 0; i < CONN_ROUNDS && !c->c_dead; i++) {
		if ((rc = ssh_event_dopoll(c->c_sev, 0)) == SSH_ERROR)
			c->c_dead = 1;
		if (rc != SSH_OK || (ssh_get_status(c->c_ssh) &
		    (SSH_CLOSED | SSH_CLOSED_ERROR)))
			break;
	}
	st = ssh_get_status(c->c_ssh);
	if (st & (SSH_CLOSED | SSH_CLOSED_ERROR))
		c->c_dead = 1;
	c->c_inpump = 0;
	TAILQ_FOREACH_SAFE(ch, &c->c_sd->sd_chans, ch_entry, next) {
		if (ch->ch_conn != c)
			continue;
		if (ch->ch_closing)
			chan_free(ch);
		else
			chan_resume(ch);
	}
	if (c->c_dead) {
		conn_free(c);
		return;
	}
	if (ssh_get_poll_flags(c->c_ssh) & SSH_WRITE_PENDING)
		event_add(c->c_ev_wr, NULL);
}

static int
conn_auth_none(ssh_session s, const char *user, void *arg)
{
	(void)s;
	conn_authed(arg, user);
	return SSH_AUTH_SUCCESS;
}

static int
conn_auth_pubkey(ssh_session s, const char *user, struct ssh_key_struct *key,
    char state, void *arg)
{
	(void)s;
	(void)key;
	if (state == SSH_PUBLICKEY_STATE_NONE ||
	    state == SSH_PUBLICKEY_STATE_VALID) {
		if (state == SSH_PUBLICKEY_STATE_VALID)
			conn_authed(arg, user);
		return SSH_AUTH_SUCCESS;
	}
	return SSH_AUTH_DENIED;
}

static void
conn_authed(struct conn *c, const char *user)
{
	if (c->c_state == CONN_PREAUTH)
		log_info("ssh: authenticated as %s (NSSH1)",
		    user != NULL ? user : "-");
	c->c_state = CONN_AUTHED;
}

void
conn_free(struct conn *c)
{
	struct sshd	*sd = c->c_sd;

	chan_conn_gone(c);
	if (c->c_ev_rd != NULL)
		event_free(c->c_ev_rd);
	if (c->c_ev_wr != NULL)
		event_free(c->c_ev_wr);
	if (c->c_timer != NULL)
		event_free(c->c_timer);
	if (c->c_sev != NULL) {
		ssh_event_remove_session(c->c_sev, c->c_ssh);
		ssh_event_free(c->c_sev);
	}
	if (c->c_ssh != NULL) {
		ssh_disconnect(c->c_ssh);
		ssh_free(c->c_ssh);
	}
	if (c->c_fd != -1)
		close(c->c_fd);
	TAILQ_REMOVE(&sd->sd_conns, c, c_entry);
	sd->sd_nconns--;
	free(c);
}
