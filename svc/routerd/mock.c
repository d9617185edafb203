/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * mock:// routes (sandbox.md §6.4 step 7): a canned answer shaped
 * like the protocol asked for, naming the route's model, with
 * "x-openshell-mock: true", framed like a real (streamed) response.
 * For tests and demos without a model backend.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include <event2/buffer.h>

#include "log.h"

#include "routerd.h"

#define MOCK_TEXT	"Hello from the OpenShell mock inference backend."

static json_t	*mock_model(const char *);
static json_t	*mock_body(const char *, const char *);

int
mock_is(const struct route *r)
{
	return strncasecmp(r->r_url, "mock://", 7) == 0;
}

static json_t *
mock_model(const char *model)
{
	return json_pack("{s:s, s:s, s:i, s:s}", "id", model, "object",
	    "model", "created", 0, "owned_by", "openshell");
}

static json_t *
mock_body(const char *kind, const char *model)
{
	if (strcmp(kind, "models_list") == 0)
		return json_pack("{s:s, s:[o]}", "object", "list", "data",
		    mock_model(model));
	if (strcmp(kind, "models_get") == 0)
		return mock_model(model);
	if (strcmp(kind, "chat_completion") == 0)
		return json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:{s:s, s:s}, "
		    "s:s}], s:{s:i, s:i, s:i}}", "id", "chatcmpl-mock",
		    "object", "chat.completion", "created", 0, "model", model,
		    "choices", "index", 0, "message", "role", "assistant",
		    "content", MOCK_TEXT, "finish_reason", "stop", "usage",
		    "prompt_tokens", 1, "completion_tokens", 9,
		    "total_tokens", 10);
	if (strcmp(kind, "completion") == 0)
		return json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:s, s:n, "
		    "s:s}], s:{s:i, s:i, s:i}}", "id", "cmpl-mock", "object",
		    "text_completion", "created", 0, "model", model,
		    "choices", "index", 0, "text", MOCK_TEXT, "logprobs",
		    "finish_reason", "stop", "usage", "prompt_tokens", 1,
		    "completion_tokens", 9, "total_tokens", 10);
	if (strcmp(kind, "responses") == 0)
		return json_pack("{s:s, s:s, s:i, s:s, s:s, s:[{s:s, s:s, "
		    "s:s, s:s, s:[{s:s, s:s, s:[]}]}], s:{s:i, s:i, s:i}}",
		    "id", "resp_mock", "object", "response", "created_at", 0,
		    "status", "completed", "model", model, "output", "type",
		    "message", "id", "msg_mock", "status", "completed",
		    "role", "assistant", "content", "type", "output_text",
		    "text", MOCK_TEXT, "annotations", "usage",
		    "input_tokens", 1, "output_tokens", 9, "total_tokens", 10);
	return json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:s, s:n, "
	    "s:{s:i, s:i}}", "id", "msg_mock", "type", "message", "role",
	    "assistant", "model", model, "content", "type", "text", "text",
	    MOCK_TEXT, "stop_reason", "end_turn", "stop_sequence", "usage",
	    "input_tokens", 1, "output_tokens", 9);
}

/* The whole answer at once: head, one chunk, the end. */
void
mock_reply(struct tunnel *t, const struct serve_req *sr)
{
	struct evbuffer	*hdrs;
	json_t		*j;
	char		*s = NULL;

	if ((j = mock_body(sr->sr_kind, sr->sr_route->r_model)) != NULL)
		s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (s == NULL || (hdrs = evbuffer_new()) == NULL) {
		free(s);
		log_warnx("mock route %s: out of memory",
		    sr->sr_route->r_name);
		serve_json(t, 502, "{\"error\":\"inference service error\"}",
		    0);
		serve_logroute(t, 502);
		serve_done(t);
		return;
	}
	evbuffer_add_printf(hdrs, "content-type: application/json\r\n"
	    "x-openshell-mock: true\r\n");
	serve_resp_head(t, 200, "OK", hdrs);
	evbuffer_free(hdrs);
	serve_chunk(t, s, strlen(s));
	serve_end(t);
	free(s);
	serve_logroute(t, 200);
	serve_done(t);
}
