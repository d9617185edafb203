/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The sandbox's two network namespaces (architecture.md §4), made with
 * unshare(2) and kept by fd only: no name in /var/run/netns, nothing
 * to clean up but the fds.  The PROXY namespace holds one end of a
 * veth pair (10.200.0.1/24) and proxyd's listener, nothing else; the
 * AGENT namespace holds the other end (10.200.0.2/24) and lo.  Neither
 * has a default route or any IPv6 address but ::1, so every
 * destination other than the proxy fails at once with ENETUNREACH, and
 * nothing the agent sends can be forwarded anywhere: the proxy
 * namespace has no other link.  Interface names are fixed, as each
 * namespace is private: veth0 (proxy side) and eth0 (agent side).
 */

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "log.h"
#include "supervisor.h"

#define NETNS_PROXY_IF	"veth0"
#define NETNS_AGENT_IF	"eth0"

static int	 netns_new(int);
static int	 netns_enter(int, const char *);
static void	 netns_noipv6(void);
static struct nl_sock *netns_nl(void);
static int	 netns_veth(struct nl_sock *, int);
static int	 netns_up(struct nl_sock *, const char *);
static int	 netns_addr(struct nl_sock *, const char *, const char *);
static int	 netns_side(int, int, const char *, const char *);

/*
 * Ownership: on success nn holds three namespace fds the caller closes
 * with netns_close (the namespaces die with their last reference: the
 * fds, the agent's processes, proxyd's listener).  We are back in our
 * own netns on return, success or not.
 */
int
netns_create(struct netns *nn)
{
	struct nl_sock	*nl;
	int		 rc = -1;

	nn->nn_agent = nn->nn_proxy = nn->nn_listen = -1;
	if ((nn->nn_orig = open("/proc/thread-self/ns/net",
	    O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("open own netns");
		return -1;
	}
	if ((nn->nn_proxy = netns_new(nn->nn_orig)) == -1 ||
	    (nn->nn_agent = netns_new(nn->nn_orig)) == -1)
		goto out;
	if (netns_enter(nn->nn_proxy, "proxy") == -1)
		goto out;
	if ((nl = netns_nl()) == NULL)
		goto back;
	if (netns_veth(nl, nn->nn_agent) == 0)
		rc = 0;
	nl_socket_free(nl);
back:
	if (netns_enter(nn->nn_orig, "own") == -1)
		fatalx("cannot return to our network namespace");
	if (rc == 0 && (netns_side(nn->nn_orig, nn->nn_proxy,
	    NETNS_PROXY_IF, SBX_PROXY_ADDR) == -1 || netns_side(nn->nn_orig,
	    nn->nn_agent, NETNS_AGENT_IF, SBX_AGENT_ADDR) == -1))
		rc = -1;
out:
	if (rc == -1)
		netns_close(nn);
	return rc;
}

/* A fresh netns, as an fd; we are back in `orig' on return. */
static int
netns_new(int orig)
{
	int	 fd;

	if (unshare(CLONE_NEWNET) == -1) {
		log_warn("unshare(CLONE_NEWNET)");
		return -1;
	}
	if ((fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) ==
	    -1)
		log_warn("open new netns");
	else
		netns_noipv6();
	if (netns_enter(orig, "own") == -1)
		fatalx("cannot return to our network namespace");
	return fd;
}

static int
netns_enter(int fd, const char *what)
{
	if (setns(fd, CLONE_NEWNET) == -1) {
		log_warn("setns %s netns", what);
		return -1;
	}
	return 0;
}

/*
 * Links created from now on in the current netns get no IPv6 (no
 * link-local address); lo keeps ::1.  The file is the current task's
 * netns's, whatever the mount namespace.  No IPv6 in the kernel: no
 * file, nothing to disable.
 */
static void
netns_noipv6(void)
{
	int	 fd;

	if ((fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6",
	    O_WRONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("disable_ipv6");
		return;
	}
	if (write(fd, "1\n", 2) != 2)
		log_warn("disable_ipv6");
	close(fd);
}

/* A route netlink socket of the current netns. */
static struct nl_sock *
netns_nl(void)
{
	struct nl_sock	*nl;
	int		 e;

	if ((nl = nl_socket_alloc()) == NULL) {
		log_warnx("nl_socket_alloc failed");
		return NULL;
	}
	if ((e = nl_connect(nl, NETLINK_ROUTE)) < 0) {
		log_warnx("nl_connect: %s", nl_geterror(e));
		nl_socket_free(nl);
		return NULL;
	}
	return nl;
}

/* In the proxy netns: veth0 here, its peer eth0 moved to the agent's. */
static int
netns_veth(struct nl_sock *nl, int agentfd)
{
	struct rtnl_link	*veth, *peer;
	int			 e;

	if ((veth = rtnl_link_veth_alloc()) == NULL) {
		log_warnx("rtnl_link_veth_alloc failed");
		return -1;
	}
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, NETNS_PROXY_IF);
	rtnl_link_set_name(peer, NETNS_AGENT_IF);
	rtnl_link_set_ns_fd(peer, agentfd);
	e = rtnl_link_add(nl, veth, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_veth_release(veth);
	if (e < 0) {
		log_warnx("veth: %s", nl_geterror(e));
		return -1;
	}
	return 0;
}

/* lo and the veth end up, with its address; back in orig after. */
static int
netns_side(int orig, int nsfd, const char *ifname, const char *addr)
{
	struct nl_sock	*nl;
	int		 rc = -1;

	if (netns_enter(nsfd, ifname) == -1)
		return -1;
	if ((nl = netns_nl()) != NULL) {
		if (netns_up(nl, "lo") == 0 && netns_addr(nl, ifname,
		    addr) == 0 && netns_up(nl, ifname) == 0)
			rc = 0;
		nl_socket_free(nl);
	}
	if (netns_enter(orig, "own") == -1)
		fatalx("cannot return to our network namespace");
	return rc;
}

static int
netns_up(struct nl_sock *nl, const char *ifname)
{
	struct rtnl_link	*link, *change;
	int			 e;

	if ((e = rtnl_link_get_kernel(nl, 0, ifname, &link)) < 0) {
		log_warnx("link %s: %s", ifname, nl_geterror(e));
		return -1;
	}
	if ((change = rtnl_link_alloc()) == NULL) {
		rtnl_link_put(link);
		return -1;
	}
	rtnl_link_set_flags(change, IFF_UP);
	e = rtnl_link_change(nl, link, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(link);
	if (e < 0) {
		log_warnx("link %s up: %s", ifname, nl_geterror(e));
		return -1;
	}
	return 0;
}

static int
netns_addr(struct nl_sock *nl, const char *ifname, const char *addr)
{
	struct rtnl_addr	*ra;
	struct nl_addr		*local;
	char			 cidr[32];
	int			 e, ifindex;

	if ((ifindex = if_nametoindex(ifname)) == 0) {
		log_warn("%s", ifname);
		return -1;
	}
	snprintf(cidr, sizeof(cidr), "%s/%d", addr, SBX_PREFIX);
	if ((e = nl_addr_parse(cidr, AF_INET, &local)) < 0) {
		log_warnx("%s: %s", cidr, nl_geterror(e));
		return -1;
	}
	if ((ra = rtnl_addr_alloc()) == NULL) {
		nl_addr_put(local);
		return -1;
	}
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_local(ra, local);
	e = rtnl_addr_add(nl, ra, 0);
	rtnl_addr_put(ra);
	nl_addr_put(local);
	if (e < 0) {
		log_warnx("address %s on %s: %s", cidr, ifname,
		    nl_geterror(e));
		return -1;
	}
	return 0;
}

/*
 * proxyd's listening socket, made inside the proxy netns so that it is
 * bound there; proxyd itself stays in ours and gets a duplicate.  The
 * fd is nn_listen, owned by nn.
 */
int
netns_listen(struct netns *nn)
{
	struct sockaddr_in	 sin;
	int			 fd, one = 1, rc = -1;

	if (netns_enter(nn->nn_proxy, "proxy") == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(SBX_PROXY_PORT);
	inet_pton(AF_INET, SBX_PROXY_ADDR, &sin.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		log_warn("proxy listener: socket");
	else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 || bind(fd, (struct sockaddr *)&sin,
	    sizeof(sin)) == -1 || listen(fd, 512) == -1) {
		log_warn("proxy listener %s:%d", SBX_PROXY_ADDR,
		    SBX_PROXY_PORT);
		close(fd);
	} else {
		nn->nn_listen = fd;
		rc = 0;
	}
	if (netns_enter(nn->nn_orig, "own") == -1)
		fatalx("cannot return to our network namespace");
	return rc;
}

void
netns_close(struct netns *nn)
{
	int	*fds[] = { &nn->nn_listen, &nn->nn_agent, &nn->nn_proxy,
		    &nn->nn_orig };
	size_t	 i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] != -1)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
