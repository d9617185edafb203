/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * The client configuration (architecture.md §6, control-plane §5.1):
 *
 *	$XDG_CONFIG_HOME/openshell/active_cluster
 *	.../clusters/<name>/metadata.json
 *	.../clusters/<name>/mtls/{ca.crt,tls.crt,tls.key}
 *	.../clusters/<name>/last_sandbox
 *
 * and which gateway a command talks to: --gateway-endpoint, then
 * -g/--gateway, OPENSHELL_GATEWAY, active_cluster.  Files are replaced
 * atomically; directories are created 0700.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "paths.h"

#define CONFIG_FILE_MAX		(1024 * 1024)

static int	 config_from_name(struct config_gw *, const char *);
static int	 config_from_endpoint(struct config_gw *, const char *);
static int	 config_parse_url(struct config_gw *, const char *);
static int	 config_find_endpoint(const char *, char *, size_t);
static int	 config_endpoint_is(const char *, const char *);
static void	 config_trim(char *);
static int	 config_exists(const char *);

/* $XDG_CONFIG_HOME/openshell, default ~/.config/openshell. */
int
config_home(char *buf, size_t len)
{
	const char	*xdg, *home;
	int		 n;

	if ((xdg = getenv("XDG_CONFIG_HOME")) != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/openshell", xdg);
	else if ((home = getenv("HOME")) != NULL && home[0] == '/')
		n = snprintf(buf, len, "%s/.config/openshell", home);
	else {
		cli_warnx("cannot find the configuration directory (set HOME "
		    "or XDG_CONFIG_HOME)");
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		cli_warnx("configuration directory path too long");
		return -1;
	}
	return 0;
}

int
config_cluster_dir(const char *name, char *buf, size_t len)
{
	char	 home[PATH_MAX];
	int	 n;

	if (!paths_name_ok(name)) {
		cli_warnx("invalid gateway name '%s'", name);
		return -1;
	}
	if (config_home(home, sizeof(home)) == -1)
		return -1;
	n = snprintf(buf, len, "%s/clusters/%s", home, name);
	if (n < 0 || (size_t)n >= len) {
		cli_warnx("configuration path too long");
		return -1;
	}
	return 0;
}

/*
 * Which gateway, in the order of control-plane §5.1.  Prints the reason
 * and returns -1 when there is none.
 */
int
config_resolve(struct config_gw *gw)
{
	const char	*name;
	char		 active[CONFIG_NAME_MAX];

	memset(gw, 0, sizeof(*gw));
	if (cli_global.cg_endpoint != NULL)
		return config_from_endpoint(gw, cli_global.cg_endpoint);
	if ((name = cli_global.cg_gateway) == NULL &&
	    (name = getenv("OPENSHELL_GATEWAY")) != NULL && name[0] == '\0')
		name = NULL;
	if (name == NULL && config_active_read(active, sizeof(active)) == 0 &&
	    active[0] != '\0')
		name = active;
	if (name == NULL) {
		cli_warnx("No active gateway. Start one with 'openshell "
		    "gateway start', or select one with --gateway or "
		    "OPENSHELL_GATEWAY.");
		return -1;
	}
	return config_from_name(gw, name);
}

static int
config_from_name(struct config_gw *gw, const char *name)
{
	json_t		*md;
	const char	*ep;
	int		 rc;

	if (config_cluster_dir(name, gw->dir, sizeof(gw->dir)) == -1)
		return -1;
	strlcpy(gw->name, name, sizeof(gw->name));
	if ((md = config_metadata_read(name)) == NULL) {
		cli_warnx("gateway '%s' is not configured (no %s/metadata.json)"
		    "; run 'openshell gateway start --name %s'", name, gw->dir,
		    name);
		return -1;
	}
	ep = json_string_value(json_object_get(md, "gateway_endpoint"));
	if (ep == NULL) {
		cli_warnx("%s/metadata.json: no gateway_endpoint", gw->dir);
		json_decref(md);
		return -1;
	}
	rc = config_parse_url(gw, ep);
	json_decref(md);
	if (rc == 0)
		rc = paths_join(gw->mtls, sizeof(gw->mtls), gw->dir, "mtls");
	return rc;
}

/*
 * An explicit endpoint; its name (for the certificates) is --gateway
 * if that is configured, else the configured gateway with the same
 * endpoint, else the URL's host ("openshell" for loopback).
 */
static int
config_from_endpoint(struct config_gw *gw, const char *url)
{
	const char	*name = cli_global.cg_gateway;
	char		 found[CONFIG_NAME_MAX], dir[PATH_MAX], *p;

	if (config_parse_url(gw, url) == -1)
		return -1;
	if (name != NULL && paths_name_ok(name) &&
	    config_cluster_dir(name, dir, sizeof(dir)) == 0 &&
	    paths_join(gw->mtls, sizeof(gw->mtls), dir, "metadata.json") == 0 &&
	    config_exists(gw->mtls))
		strlcpy(found, name, sizeof(found));
	else if (config_find_endpoint(gw->endpoint, found, sizeof(found)) != 0) {
		if (strcmp(gw->host, "127.0.0.1") == 0 ||
		    strcmp(gw->host, "localhost") == 0 ||
		    strcmp(gw->host, "::1") == 0)
			strlcpy(found, PATHS_DEFAULT_NAME, sizeof(found));
		else
			strlcpy(found, gw->host, sizeof(found));
		for (p = found; *p != '\0'; p++)
			if (strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p) ==
			    NULL)
				*p = '_';
	}
	strlcpy(gw->name, found, sizeof(gw->name));
	if (config_cluster_dir(found, gw->dir, sizeof(gw->dir)) == -1)
		return -1;
	return paths_join(gw->mtls, sizeof(gw->mtls), gw->dir, "mtls");
}

/* https://host[:port][/]; IPv6 literals in brackets. */
static int
config_parse_url(struct config_gw *gw, const char *url)
{
	const char	*p, *end, *colon;
	size_t		 hlen;

	if (strlcpy(gw->endpoint, url, sizeof(gw->endpoint)) >=
	    sizeof(gw->endpoint))
		goto bad;
	while ((hlen = strlen(gw->endpoint)) > 0 &&
	    gw->endpoint[hlen - 1] == '/')
		gw->endpoint[hlen - 1] = '\0';
	if (strncmp(gw->endpoint, "http://", 7) == 0) {
		cli_warnx("%s: plaintext gateways are not supported", url);
		return -1;
	}
	if (strncmp(gw->endpoint, "https://", 8) != 0)
		goto bad;
	p = gw->endpoint + 8;
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL)
			goto bad;
		p++;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			goto bad;
	} else {
		colon = strchr(p, ':');
		end = colon != NULL ? colon : p + strlen(p);
	}
	hlen = (size_t)(end - p);
	if (hlen == 0 || hlen >= sizeof(gw->host) || strchr(p, '/') != NULL)
		goto bad;
	memcpy(gw->host, p, hlen);
	gw->host[hlen] = '\0';
	if (colon == NULL)
		strlcpy(gw->port, "443", sizeof(gw->port));
	else if (colon[1] == '\0' || strlen(colon + 1) >= sizeof(gw->port) ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		goto bad;
	else
		strlcpy(gw->port, colon + 1, sizeof(gw->port));
	return 0;
 bad:
	cli_warnx("invalid gateway endpoint '%s' (expected https://host:port)",
	    url);
	return -1;
}

/*
 * The configured gateway whose metadata names this endpoint (trailing
 * slashes aside), the active one first.
 */
static int
config_find_endpoint(const char *endpoint, char *name, size_t len)
{
	char		 home[PATH_MAX], dir[PATH_MAX];
	struct dirent	*de;
	DIR		*dp;
	int		 rc = -1;

	if (config_active_read(name, len) == 0 && name[0] != '\0' &&
	    config_endpoint_is(name, endpoint))
		return 0;
	if (config_home(home, sizeof(home)) == -1 ||
	    paths_join(dir, sizeof(dir), home, "clusters") == -1 ||
	    (dp = opendir(dir)) == NULL)
		return -1;
	while (rc == -1 && (de = readdir(dp)) != NULL)
		if (paths_name_ok(de->d_name) &&
		    config_endpoint_is(de->d_name, endpoint) &&
		    strlcpy(name, de->d_name, len) < len)
			rc = 0;
	closedir(dp);
	return rc;
}

static int
config_endpoint_is(const char *gw, const char *endpoint)
{
	const char	*ep;
	json_t		*md;
	size_t		 n = strlen(endpoint);
	int		 same;

	if ((md = config_metadata_read(gw)) == NULL)
		return 0;
	ep = json_string_value(json_object_get(md, "gateway_endpoint"));
	same = ep != NULL && strncmp(ep, endpoint, n) == 0 &&
	    strspn(ep + n, "/") == strlen(ep + n);
	json_decref(md);
	return same;
}

/* The active gateway's name, "" if none; -1 only on a real error. */
int
config_active_read(char *buf, size_t len)
{
	char	 home[PATH_MAX], path[PATH_MAX], *data;
	size_t	 n;

	buf[0] = '\0';
	if (config_home(home, sizeof(home)) == -1 ||
	    paths_join(path, sizeof(path), home, "active_cluster") == -1)
		return -1;
	if ((data = config_read_file(path, &n)) == NULL)
		return errno == ENOENT ? 0 : -1;
	config_trim(data);
	if (strlcpy(buf, data, len) >= len)
		buf[0] = '\0';
	free(data);
	return 0;
}

int
config_active_write(const char *name)
{
	char	 home[PATH_MAX], path[PATH_MAX], line[CONFIG_NAME_MAX + 2];

	if (config_home(home, sizeof(home)) == -1 ||
	    paths_join(path, sizeof(path), home, "active_cluster") == -1)
		return -1;
	snprintf(line, sizeof(line), "%s\n", name);
	return config_write_file(path, line, strlen(line), 0600);
}

/* metadata.json as the design says; the endpoint is always loopback. */
int
config_metadata_write(const char *name, const char *host, int port,
    const char *state_dir)
{
	char	 dir[PATH_MAX], path[PATH_MAX], ep[CONFIG_URL_MAX], *s, *nl;
	json_t	*md;
	int	 rc;

	if (config_cluster_dir(name, dir, sizeof(dir)) == -1 ||
	    paths_join(path, sizeof(path), dir, "metadata.json") == -1)
		return -1;
	snprintf(ep, sizeof(ep), strchr(host, ':') != NULL ?
	    "https://[%s]:%d" : "https://%s:%d", host, port);
	md = json_pack("{s:s, s:s, s:b, s:i, s:s, s:s}", "name", name,
	    "gateway_endpoint", ep, "is_remote", 0, "gateway_port", port,
	    "auth_mode", "mtls", "state_dir", state_dir);
	if (md == NULL)
		return -1;
	s = json_dumps(md, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(md);
	if (s == NULL || asprintf(&nl, "%s\n", s) == -1) {
		free(s);
		return -1;
	}
	free(s);
	rc = config_write_file(path, nl, strlen(nl), 0600);
	free(nl);
	return rc;
}

json_t *
config_metadata_read(const char *name)
{
	char		 dir[PATH_MAX], path[PATH_MAX];
	json_error_t	 jerr;
	json_t		*md;

	if (config_cluster_dir(name, dir, sizeof(dir)) == -1 ||
	    paths_join(path, sizeof(path), dir, "metadata.json") == -1)
		return NULL;
	if (!config_exists(path))
		return NULL;
	if ((md = json_load_file(path, 0, &jerr)) == NULL)
		cli_warnx("%s: %s", path, jerr.text);
	else if (!json_is_object(md)) {
		cli_warnx("%s: not a JSON object", path);
		json_decref(md);
		md = NULL;
	}
	return md;
}

/*
 * Replaces path with data: a temporary file beside it, fsync, rename.
 * Missing parent directories are created 0700.
 */
int
config_write_file(const char *path, const char *data, size_t len, int mode)
{
	char	 tmp[PATH_MAX], dir[PATH_MAX], *slash;
	ssize_t	 n;
	size_t	 off = 0;
	int	 fd;

	strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		if (config_mkdirs(dir) == -1)
			return -1;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    (mode_t)mode);
	if (fd == -1) {
		cli_warnx("%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		if ((n = write(fd, data + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	if (off != len || fchmod(fd, (mode_t)mode) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1 || rename(tmp, path) == -1) {
		cli_warnx("%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The whole file, NUL-terminated; NULL with errno. */
char *
config_read_file(const char *path, size_t *lenp)
{
	char	*buf;
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd, save;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if ((buf = malloc(CONFIG_FILE_MAX + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (len < CONFIG_FILE_MAX &&
	    (n = read(fd, buf + len, CONFIG_FILE_MAX - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			save = errno;
			free(buf);
			close(fd);
			errno = save;
			return NULL;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

/* Missing components of path are created 0700. */
int
config_mkdirs(const char *path)
{
	char	 buf[PATH_MAX], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return -1;
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST)
		goto fail;
	return 0;
 fail:
	cli_warnx("mkdir %s: %s", buf, strerror(errno));
	return -1;
}

/* The last sandbox used with this gateway, or -1 if none is recorded. */
int
config_last_sandbox(const struct config_gw *gw, char *buf, size_t len)
{
	char	 path[PATH_MAX], *data;

	if (paths_join(path, sizeof(path), gw->dir, "last_sandbox") == -1 ||
	    (data = config_read_file(path, NULL)) == NULL)
		return -1;
	config_trim(data);
	if (data[0] == '\0' || strlcpy(buf, data, len) >= len) {
		free(data);
		return -1;
	}
	free(data);
	return 0;
}

void
config_last_sandbox_set(const struct config_gw *gw, const char *name)
{
	char	 path[PATH_MAX], line[1024];

	if (paths_join(path, sizeof(path), gw->dir, "last_sandbox") == -1)
		return;
	snprintf(line, sizeof(line), "%s\n", name);
	(void)config_write_file(path, line, strlen(line), 0600);
}

/* Forgets name if it is the one remembered. */
void
config_last_sandbox_clear(const struct config_gw *gw, const char *name)
{
	char	 path[PATH_MAX], last[1024];

	if (config_last_sandbox(gw, last, sizeof(last)) == 0 &&
	    strcmp(last, name) == 0 &&
	    paths_join(path, sizeof(path), gw->dir, "last_sandbox") == 0)
		unlink(path);
}

/*
 * An optional sandbox-name argument: arg if given, else the last one
 * used (said on stderr).  -1 after a message when there is neither.
 */
int
config_sandbox_arg(const struct config_gw *gw, const char *arg, char *buf,
    size_t len)
{
	if (arg != NULL) {
		if (strlcpy(buf, arg, len) >= len) {
			cli_warnx("sandbox name too long");
			return -1;
		}
		return 0;
	}
	if (config_last_sandbox(gw, buf, len) == -1) {
		cli_warnx("no sandbox name given and no sandbox used last "
		    "with gateway '%s'", gw->name);
		return -1;
	}
	fprintf(stderr, "→ Using sandbox '%s' (last used)\n", buf);
	return 0;
}

static void
config_trim(char *s)
{
	size_t	 len, skip;

	skip = strspn(s, " \t\r\n");
	memmove(s, s + skip, strlen(s + skip) + 1);
	len = strlen(s);
	while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL)
		s[--len] = '\0';
}

static int
config_exists(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0;
}
