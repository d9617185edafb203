/*
 * Copyright (c) 2026 The OpenShell in C authors.
 * SPDX-License-Identifier: ISC
 *
 * Internal to libpolicy: how a libyaml scalar resolves under the YAML
 * 1.2 core schema, as serde_yaml sees it.  Only plain scalars resolve;
 * quoted ones are always strings.
 */

#ifndef POLICY_YAML_H
#define POLICY_YAML_H

#include <yaml.h>

enum py_kind {
	PY_NULL,
	PY_BOOL,
	PY_INT,
	PY_FLOAT,
	PY_STR
};

struct py_scalar {
	enum py_kind		 kind;
	int			 b;		/* PY_BOOL */
	unsigned long long	 u;		/* PY_INT magnitude */
	int			 neg;		/* PY_INT below zero */
	int			 overflow;	/* PY_INT beyond 64 bits */
};

enum py_kind	 policy_yaml_scalar_kind(const yaml_node_t *);
void		 policy_yaml_scalar_parse(const yaml_node_t *,
		    struct py_scalar *);
enum py_kind	 policy_yaml_scalar_classify(const char *, size_t);
char		*policy_yaml_scalar_unexpected(const yaml_node_t *);
int		 policy_yaml_scalar_null(const yaml_node_t *);
int		 policy_yaml_scalar_empty(const yaml_node_t *);
int		 policy_yaml_scalar_strseq(yaml_document_t *,
		    const yaml_node_t *);

#endif /* POLICY_YAML_H */
