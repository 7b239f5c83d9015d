/*
 * role.c - the roles of a brand's people and tokens: admin may do
 * everything; operator may create and change batches, aggregations and
 * shipments; analyst only reads.
 *
 * Owns the names the API, the dashboard and the CLI show and accept, and
 * the one rule of what a role may do. Calls nothing; never reads the
 * store or a request.
 */
#include <string.h>

#include "sigil/role.h"
#include "sigil/store.h"

const char *
role_name(int role)
{
	switch (role) {
	case ROLE_ADMIN:	return "admin";
	case ROLE_OPERATOR:	return "operator";
	case ROLE_ANALYST:	return "analyst";
	}
	return "none";
}

int
role_parse(const char *s)
{
	for (int role = ROLE_ADMIN; s != NULL && role <= ROLE_ANALYST; role++)
		if (strcmp(s, role_name(role)) == 0)
			return role;
	return 0;
}

int
role_may(int role, int need)
{
	switch (need) {
	case ROLE_NEED_READ:
		return 1;
	case ROLE_NEED_OPERATE:
		return role == ROLE_ADMIN || role == ROLE_OPERATOR;
	}
	return role == ROLE_ADMIN;
}
