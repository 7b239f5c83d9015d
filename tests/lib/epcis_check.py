#!/usr/bin/env python3
"""Validator for GS1 EPCIS 2.0 JSON / JSON-LD documents, standard library only.

    python3 tests/lib/epcis_check.py FILE.json [FILE.json ...]   ("-" = stdin)
        exit 0 when every file is valid; otherwise one line per violation
        ("FILE: path: message") and exit 1.
    python3 tests/lib/epcis_check.py --self-test
        checks that a good sample passes and that every deliberately broken
        sample is caught for the expected reason; exit 0 when all are.

    from epcis_check import check_document
    errors = check_document(doc)      # doc: parsed JSON; [] when valid

Rules implemented, written from the EPCIS 2.0 JSON schema in GS1's
repository (github.com/gs1/EPCIS, JSON-Schema/EPCIS-Document-JSON-Schema.json,
JSON-Schema/schemas/event-definitions-JSON-Schema.json, ObjectEvent-,
AggregationEvent-, TransactionEvent-, TransformationEvent-,
AssociationEvent-JSON-Schema.json, bizStep-, disposition-, source-dest-type-
and bizTransaction-type-JSON-Schema.json) and from the EPCIS 2.0 standard's
text where the schema defers to it. Each check below names its source as
[schema file#definition] or [EPCIS 2.0 §section].

Deliberately stricter than the schema where the standard's prose says
more: parentID is required for AggregationEvent ADD/DELETE (§7.4.3);
schemaVersion/creationDate are required in query documents too (the
EPCISQueryDocument header of §9 carries both as mandatory); every event of
a query document needs recordTime (§7.4.1: present whenever an event is
retrieved through the query interfaces); a GS1 Digital Link identifier's
primary key (00 SSCC, 01 GTIN, 414/417 GLN) must have its length and GS1
check digit (GS1 Digital Link URI syntax; General Specifications §7.9.1),
with a lower-case scheme and host so identifiers compare as strings.
check_document(doc, context=EPCIS_CONTEXT_2_0_0) also demands the
versioned 2.0.0 context.
"""
import datetime
import json
import re
import sys

# [definitions-JSON-Schema.json#@context] plus the published context URL
# (EPCIS 2.0 §10.3: documents must reference the standard context).
EPCIS_CONTEXTS = {
    "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
}

# [event-definitions-JSON-Schema.json#action]
ACTIONS = {"ADD", "OBSERVE", "DELETE"}

# [bizStep-JSON-Schema.json#bizStep]: the CBV 2.0 business steps.
BIZ_STEPS = {
    "accepting", "arriving", "assembling", "collecting", "commissioning",
    "consigning", "creating_class_instance", "cycle_counting",
    "decommissioning", "departing", "destroying", "disassembling",
    "dispensing", "encoding", "entering_exiting", "holding", "inspecting",
    "installing", "killing", "loading", "other", "packing", "picking",
    "receiving", "removing", "repackaging", "repairing", "replacing",
    "reserving", "retail_selling", "shipping", "staging_outbound",
    "stock_taking", "stocking", "storing", "transporting", "unloading",
    "unpacking", "void_shipping", "sensor_reporting", "sampling",
}

# [disposition-JSON-Schema.json#disposition] plus the values CBV 2.0 §7.2
# added (available, completeness_*, conformant, container_open, mismatch_*,
# needs_replacement, non_conformant, unavailable).
DISPOSITIONS = {
    "active", "available", "completeness_inferred", "completeness_verified",
    "conformant", "container_closed", "container_open", "damaged",
    "destroyed", "dispensed", "disposed", "encoded", "expired",
    "in_progress", "in_transit", "inactive", "mismatch_class",
    "mismatch_instance", "mismatch_quantity", "needs_replacement",
    "no_pedigree_match", "non_conformant", "non_sellable_other",
    "partially_dispensed", "recalled", "reserved", "retail_sold",
    "returned", "sellable_accessible", "sellable_not_accessible", "stolen",
    "unavailable", "unknown",
}

# [source-dest-type-JSON-Schema.json#source-dest-type]
SOURCE_DEST_TYPES = {"owning_party", "possessing_party", "location"}

# [bizTransaction-type-JSON-Schema.json#bizTransaction-type]
BIZ_TRANSACTION_TYPES = {
    "bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder",
    "recadv", "rma", "testprd", "testres",
}

# CBV values may be bare words or full URIs; a URI inside a CBV namespace
# must name a real CBV value ([bizStep-JSON-Schema.json] excludes unknown
# CBV-namespace URIs with a "not pattern"), any other URI is a user
# vocabulary and allowed ([definitions-JSON-Schema.json#vocab-uri]).
CBV_PREFIXES = {
    "bizStep": ("https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": ("https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:"),
    "sdt": ("https://ref.gs1.org/cbv/SDT-", "urn:epcglobal:cbv:sdt:"),
    "btt": ("https://ref.gs1.org/cbv/BTT-", "urn:epcglobal:cbv:btt:"),
}

# [event-definitions-JSON-Schema.json#Event] eventTimeZoneOffset pattern.
OFFSET_RE = re.compile(r"^[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)$")
# JSON schema "format": "date-time" is RFC 3339 §5.6: the offset is required.
DATE_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"([Zz]|([+-])(\d{2}):(\d{2}))$")
# JSON schema "format": "uri" is an absolute RFC 3986 URI: scheme ":" rest,
# no characters RFC 3986 never allows unescaped, well-formed %-escapes.
URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[!#$%&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]+$")
PCT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# [event-definitions-JSON-Schema.json#uom]
UOM_RE = re.compile(r"^[A-Z0-9]{2,3}$")

COMMON_EVENT_KEYS = {
    "@context", "type", "eventTime", "recordTime", "eventTimeZoneOffset",
    "eventID", "errorDeclaration", "certificationInfo",
}
# The "propertyNames" enums of each event schema; any other key must be an
# extension named by a URI or compact IRI ([..#common-event-properties]).
EVENT_KEYS = {
    "ObjectEvent": {"epcList", "quantityList", "action", "bizStep",
                    "disposition", "persistentDisposition", "readPoint",
                    "bizLocation", "bizTransactionList", "sourceList",
                    "destinationList", "sensorElementList", "ilmd"},
    "AggregationEvent": {"parentID", "childEPCs", "childQuantityList",
                         "action", "bizStep", "disposition",
                         "persistentDisposition", "readPoint", "bizLocation",
                         "bizTransactionList", "sourceList",
                         "destinationList", "sensorElementList"},
    "AssociationEvent": {"parentID", "childEPCs", "childQuantityList",
                         "action", "bizStep", "disposition",
                         "persistentDisposition", "readPoint", "bizLocation",
                         "bizTransactionList", "sourceList",
                         "destinationList", "sensorElementList"},
    "TransactionEvent": {"bizTransactionList", "parentID", "epcList",
                         "quantityList", "action", "bizStep", "disposition",
                         "persistentDisposition", "readPoint", "bizLocation",
                         "sourceList", "destinationList",
                         "sensorElementList"},
    "TransformationEvent": {"inputEPCList", "inputQuantityList",
                            "outputEPCList", "outputQuantityList",
                            "transformationID", "bizStep", "disposition",
                            "persistentDisposition", "readPoint",
                            "bizLocation", "bizTransactionList",
                            "sourceList", "destinationList",
                            "sensorElementList", "ilmd"},
}
# [EPCIS-Document-JSON-Schema.json#epcisDocument / #epcisQueryDocument]
DOCUMENT_KEYS = {"@context", "id", "type", "schemaVersion", "creationDate",
                 "instanceIdentifier", "sender", "receiver", "epcisHeader",
                 "epcisBody"}


EPCIS_CONTEXT_2_0_0 = \
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

# GS1 Digital Link URI syntax 1.x: a primary key right after the host (or
# after a path of the domain's own, which sigil never uses) must be the
# key's length with a correct GS1 mod-10 check digit (GS1 General
# Specifications §3.2 for AI 00 SSCC (18), 01 GTIN (14), 414 GLN (13);
# check digit algorithm §7.9.1). EPCIS 2.0 §8.2 takes DL URIs as
# identifiers, so a malformed key is a malformed identifier.
DL_KEYS = {"00": 18, "01": 14, "414": 13, "417": 13}
DL_RE = re.compile(r"^https?://[^/?#]+/(00|01|414|417)/([^/?#]*)")


def gs1_check_ok(digits):
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = sum(int(c) * (3 if i % 2 == 0 else 1)
                for i, c in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == int(digits[-1])


def gs1_dl_problem(v):
    """A message when v is a GS1 Digital Link URI with a bad primary key."""
    m = DL_RE.match(v)
    if not m:
        return None
    ai, key = m.group(1), m.group(2)
    if len(key) != DL_KEYS[ai] or not gs1_check_ok(key):
        return ("GS1 Digital Link key /%s/%s is not %d digits with a "
                "correct check digit" % (ai, key, DL_KEYS[ai]))
    if m.group(0).split("://", 1)[1].split("/", 1)[0] != \
            m.group(0).split("://", 1)[1].split("/", 1)[0].lower() or \
            not v.startswith(("https://", "http://")):
        return "GS1 Digital Link URI with an upper-case scheme or host"
    return None


def is_uri(v):
    return isinstance(v, str) and bool(URI_RE.match(v)) and not PCT_RE.search(v)


def is_date_time(v):
    if not isinstance(v, str):
        return False
    m = DATE_TIME_RE.match(v)
    if not m:
        return False
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    try:
        # RFC 3339 allows second 60 (leap second); datetime does not.
        datetime.datetime(y, mo, d, h, mi, min(s, 59))
    except ValueError:
        return False
    if s > 60 or (m.group(9) and (int(m.group(10)) > 23 or int(m.group(11)) > 59)):
        return False
    return True


class Checker:
    def __init__(self, context=None):
        self.errors = []
        self.want_context = context
        self.query = False

    def err(self, path, msg):
        self.errors.append("%s: %s" % (path, msg))

    # ---- scalar rules ----
    def uri(self, v, path):
        if not is_uri(v):
            self.err(path, "not an absolute URI: %r" % (v,))
            return False
        bad = gs1_dl_problem(v)
        if bad:
            self.err(path, bad)
            return False
        return True

    def time(self, v, path):
        if not is_date_time(v):
            self.err(path, "not an RFC 3339 date-time with offset: %r" % (v,))

    def cbv(self, v, path, kind, words):
        """A CBV value: bare word, CBV URI of a known word, or a non-CBV URI."""
        if not isinstance(v, str):
            self.err(path, "%s must be a string" % kind)
            return
        if v in words:
            return
        for prefix in CBV_PREFIXES[kind]:
            if v.startswith(prefix):
                if v[len(prefix):] not in words:
                    self.err(path, "unknown CBV %s %r" % (kind, v))
                return
        if not is_uri(v):
            self.err(path, "unknown CBV %s %r (neither a CBV value nor a URI)"
                     % (kind, v))

    def key_names(self, obj, allowed, path):
        # [..#common-event-properties] / document "propertyNames": extension
        # keys must be URIs or compact IRIs (prefix:name).
        for k in obj:
            if k not in allowed and ":" not in k:
                self.err("%s.%s" % (path, k), "unknown property (extensions "
                         "need a namespace prefix)")

    def uri_list(self, v, path, min_items=0, unique=False):
        if not isinstance(v, list):
            self.err(path, "must be an array")
            return
        if len(v) < min_items:
            self.err(path, "needs at least %d item(s)" % min_items)
        for i, x in enumerate(v):
            self.uri(x, "%s[%d]" % (path, i))
        # [event-definitions-JSON-Schema.json#epcList] "uniqueItems": true
        if unique and len(set(x for x in v if isinstance(x, str))) != len(v):
            self.err(path, "duplicate items")

    # ---- structured elements ----
    def quantity_list(self, v, path, min_items=0):
        # [event-definitions-JSON-Schema.json#quantityElement]
        if not isinstance(v, list):
            self.err(path, "must be an array")
            return
        if len(v) < min_items:
            self.err(path, "needs at least %d item(s)" % min_items)
        for i, q in enumerate(v):
            p = "%s[%d]" % (path, i)
            if not isinstance(q, dict):
                self.err(p, "quantityElement must be an object")
                continue
            for k in q:
                if k not in ("epcClass", "quantity", "uom"):
                    self.err("%s.%s" % (p, k), "not allowed in quantityElement")
            if "epcClass" not in q:
                self.err(p, "missing epcClass")
            else:
                self.uri(q["epcClass"], p + ".epcClass")
            if "quantity" not in q:
                self.err(p, "missing quantity")
            elif isinstance(q["quantity"], bool) or \
                    not isinstance(q["quantity"], (int, float)):
                self.err(p + ".quantity", "must be a number")
            if "uom" in q and not (isinstance(q["uom"], str)
                                   and UOM_RE.match(q["uom"])):
                self.err(p + ".uom", "must match ^[A-Z0-9]{2,3}$")

    def place(self, v, path):
        # [event-definitions-JSON-Schema.json#readPoint / #bizLocation]
        if not isinstance(v, dict):
            self.err(path, "must be an object {\"id\": URI}")
            return
        if "id" not in v:
            self.err(path, "missing id")
        else:
            self.uri(v["id"], path + ".id")

    def parties(self, v, path, value_key):
        # [event-definitions-JSON-Schema.json#source / #destination]
        if not isinstance(v, list):
            self.err(path, "must be an array")
            return
        for i, s in enumerate(v):
            p = "%s[%d]" % (path, i)
            if not isinstance(s, dict):
                self.err(p, "must be an object")
                continue
            for k in s:
                if k not in ("type", value_key):
                    self.err("%s.%s" % (p, k), "not allowed")
            if "type" not in s:
                self.err(p, "missing type")
            else:
                self.cbv(s["type"], p + ".type", "sdt", SOURCE_DEST_TYPES)
            if value_key not in s:
                self.err(p, "missing " + value_key)
            else:
                self.uri(s[value_key], "%s.%s" % (p, value_key))

    def biz_transactions(self, v, path, min_items=0):
        # [event-definitions-JSON-Schema.json#bizTransaction]
        if not isinstance(v, list):
            self.err(path, "must be an array")
            return
        if len(v) < min_items:
            self.err(path, "needs at least %d item(s)" % min_items)
        for i, t in enumerate(v):
            p = "%s[%d]" % (path, i)
            if not isinstance(t, dict):
                self.err(p, "must be an object")
                continue
            for k in t:
                if k not in ("type", "bizTransaction"):
                    self.err("%s.%s" % (p, k), "not allowed")
            if "type" in t:
                self.cbv(t["type"], p + ".type", "btt", BIZ_TRANSACTION_TYPES)
            if "bizTransaction" not in t:
                self.err(p, "missing bizTransaction")
            else:
                self.uri(t["bizTransaction"], p + ".bizTransaction")

    def sensor_elements(self, v, path):
        # [event-definitions-JSON-Schema.json#sensorElement]: sensorReport
        # is required, non-empty, and each report needs a type.
        if not isinstance(v, list):
            self.err(path, "must be an array")
            return
        for i, s in enumerate(v):
            p = "%s[%d]" % (path, i)
            if not isinstance(s, dict):
                self.err(p, "must be an object")
                continue
            reports = s.get("sensorReport")
            if not isinstance(reports, list) or not reports:
                self.err(p, "sensorReport must be a non-empty array")
                continue
            for j, r in enumerate(reports):
                if not isinstance(r, dict) or "type" not in r:
                    self.err("%s.sensorReport[%d]" % (p, j), "needs a type")

    # ---- events ----
    def event(self, ev, path):
        if not isinstance(ev, dict):
            self.err(path, "event must be an object")
            return
        t = ev.get("type")
        if t is None:
            self.err(path, "missing type")
            return
        # [EPCIS-JSON-Schema-root.json]: other types are extension events
        # whose type is a vocabulary URI ([..#Extended-Event]).
        if t not in EVENT_KEYS and not is_uri(t):
            self.err(path + ".type", "unknown event type %r" % (t,))
            return
        # [event-definitions-JSON-Schema.json#Event]: required fields.
        if "eventTime" not in ev:
            self.err(path, "missing eventTime")
        else:
            self.time(ev["eventTime"], path + ".eventTime")
        if "eventTimeZoneOffset" not in ev:
            self.err(path, "missing eventTimeZoneOffset")
        elif not (isinstance(ev["eventTimeZoneOffset"], str)
                  and OFFSET_RE.match(ev["eventTimeZoneOffset"])):
            self.err(path + ".eventTimeZoneOffset",
                     "must be +HH:MM or -HH:MM within -14:00..+14:00: %r"
                     % (ev["eventTimeZoneOffset"],))
        if "recordTime" in ev:
            self.time(ev["recordTime"], path + ".recordTime")
        elif self.query:
            # EPCIS 2.0 §7.4.1 (recordTime): ignored at capture, and
            # "SHALL be present when an event is retrieved through the
            # EPCIS Query Interfaces" - every query result carries it.
            self.err(path, "missing recordTime (required in query results)")
        if "eventID" in ev:
            self.uri(ev["eventID"], path + ".eventID")
        if "errorDeclaration" in ev:
            self.error_declaration(ev["errorDeclaration"],
                                   path + ".errorDeclaration")
        if t not in EVENT_KEYS:
            return
        self.key_names(ev, COMMON_EVENT_KEYS | EVENT_KEYS[t], path)

        action = ev.get("action")
        if t != "TransformationEvent":
            # "required": [..., "action"] in every event schema but
            # TransformationEvent, which has no action at all.
            if "action" not in ev:
                self.err(path, "missing action")
            elif action not in ACTIONS:
                self.err(path + ".action",
                         "must be ADD, OBSERVE or DELETE: %r" % (action,))

        if "bizStep" in ev:
            self.cbv(ev["bizStep"], path + ".bizStep", "bizStep", BIZ_STEPS)
        if "disposition" in ev:
            self.cbv(ev["disposition"], path + ".disposition", "disposition",
                     DISPOSITIONS)
        if "persistentDisposition" in ev:
            pd = ev["persistentDisposition"]
            if not isinstance(pd, dict):
                self.err(path + ".persistentDisposition", "must be an object")
            else:
                for k in ("set", "unset"):
                    for i, d in enumerate(pd.get(k, [])):
                        self.cbv(d, "%s.persistentDisposition.%s[%d]"
                                 % (path, k, i), "disposition", DISPOSITIONS)
        for k in ("readPoint", "bizLocation"):
            if k in ev:
                self.place(ev[k], "%s.%s" % (path, k))
        if "bizTransactionList" in ev:
            self.biz_transactions(ev["bizTransactionList"],
                                  path + ".bizTransactionList",
                                  1 if t == "TransactionEvent" else 0)
        if "sourceList" in ev:
            self.parties(ev["sourceList"], path + ".sourceList", "source")
        if "destinationList" in ev:
            self.parties(ev["destinationList"], path + ".destinationList",
                         "destination")
        if "sensorElementList" in ev:
            self.sensor_elements(ev["sensorElementList"],
                                 path + ".sensorElementList")
        if "ilmd" in ev:
            # [event-definitions-JSON-Schema.json#ilmd]: an object whose keys
            # are URIs; [ObjectEvent-JSON-Schema.json]: only with ADD.
            if not isinstance(ev["ilmd"], dict):
                self.err(path + ".ilmd", "must be an object")
            if t == "ObjectEvent" and action != "ADD":
                self.err(path + ".ilmd", "only allowed when action is ADD")

        getattr(self, "event_" + t)(ev, path, action)

    def event_ObjectEvent(self, ev, path, action):
        # [ObjectEvent-JSON-Schema.json] anyOf: epcList, or a non-empty
        # quantityList, or sensorElementList together with readPoint.
        if "epcList" in ev:
            self.uri_list(ev["epcList"], path + ".epcList", unique=True)
        if "quantityList" in ev:
            self.quantity_list(ev["quantityList"], path + ".quantityList")
        has_q = isinstance(ev.get("quantityList"), list) and ev["quantityList"]
        has_sensor = bool(ev.get("sensorElementList")) and "readPoint" in ev
        if "epcList" not in ev and not has_q and not has_sensor:
            self.err(path, "ObjectEvent needs epcList or a non-empty "
                     "quantityList (or sensorElementList with readPoint)")

    def _children(self, ev, path, action):
        if "childEPCs" in ev:
            self.uri_list(ev["childEPCs"], path + ".childEPCs", unique=True)
        if "childQuantityList" in ev:
            self.quantity_list(ev["childQuantityList"],
                               path + ".childQuantityList")
        # anyOf: non-empty childEPCs or childQuantityList unless DELETE.
        if action != "DELETE" and not ev.get("childEPCs") and \
                not ev.get("childQuantityList"):
            self.err(path, "needs non-empty childEPCs or childQuantityList "
                     "unless action is DELETE")

    def event_AggregationEvent(self, ev, path, action):
        # EPCIS 2.0 §7.4.3: parentID is optional only for OBSERVE.
        if "parentID" in ev:
            self.uri(ev["parentID"], path + ".parentID")
        elif action in ("ADD", "DELETE"):
            self.err(path, "AggregationEvent %s requires parentID" % action)
        self._children(ev, path, action)

    def event_AssociationEvent(self, ev, path, action):
        # EPCIS 2.0 §7.4.6: parentID is always required.
        if "parentID" in ev:
            self.uri(ev["parentID"], path + ".parentID")
        else:
            self.err(path, "AssociationEvent requires parentID")
        self._children(ev, path, action)

    def event_TransactionEvent(self, ev, path, action):
        # [TransactionEvent-JSON-Schema.json]: bizTransactionList required;
        # epcList or a non-empty quantityList unless DELETE.
        if "bizTransactionList" not in ev:
            self.err(path, "TransactionEvent requires bizTransactionList")
        if "parentID" in ev:
            self.uri(ev["parentID"], path + ".parentID")
        if "epcList" in ev:
            self.uri_list(ev["epcList"], path + ".epcList", unique=True)
        if "quantityList" in ev:
            self.quantity_list(ev["quantityList"], path + ".quantityList")
        if action != "DELETE" and "epcList" not in ev and \
                not ev.get("quantityList"):
            self.err(path, "TransactionEvent needs epcList or quantityList")

    def event_TransformationEvent(self, ev, path, action):
        # [TransformationEvent-JSON-Schema.json]: at least one non-empty
        # input or output list (or a transformationID linking halves).
        lists = ("inputEPCList", "inputQuantityList", "outputEPCList",
                 "outputQuantityList")
        for k in lists:
            if k in ev:
                if k.endswith("EPCList"):
                    self.uri_list(ev[k], "%s.%s" % (path, k), unique=True)
                else:
                    self.quantity_list(ev[k], "%s.%s" % (path, k))
        if "transformationID" in ev:
            self.uri(ev["transformationID"], path + ".transformationID")
        if not any(ev.get(k) for k in lists) and "transformationID" not in ev:
            self.err(path, "TransformationEvent needs an input or output list")

    def error_declaration(self, v, path):
        # [event-definitions-JSON-Schema.json#errorDeclaration]
        if not isinstance(v, dict):
            self.err(path, "must be an object")
            return
        if "declarationTime" not in v:
            self.err(path, "missing declarationTime")
        else:
            self.time(v["declarationTime"], path + ".declarationTime")
        if "reason" in v and not (is_uri(v["reason"]) or v["reason"] in
                                  ("did_not_occur", "incorrect_data")):
            self.err(path + ".reason", "unknown reason %r" % (v["reason"],))
        for i, e in enumerate(v.get("correctiveEventIDs", [])):
            self.uri(e, "%s.correctiveEventIDs[%d]" % (path, i))

    # ---- documents ----
    def context(self, v, path):
        # [definitions-JSON-Schema.json#@context]: a URI, an object, or an
        # array (unique items) of those; EPCIS 2.0 §10.3: one of them must be
        # the standard EPCIS context.
        items = v if isinstance(v, list) else [v]
        for i, c in enumerate(items):
            if not (isinstance(c, dict) or is_uri(c)):
                self.err("%s[%d]" % (path, i), "must be a URI or an object")
        strs = [c for c in items if isinstance(c, str)]
        if len(set(strs)) != len(strs):
            self.err(path, "duplicate items")
        if not any(c in EPCIS_CONTEXTS for c in strs):
            self.err(path, "does not include the EPCIS 2.0 context "
                     "https://ref.gs1.org/standards/epcis/epcis-context.jsonld")
        if self.want_context and self.want_context not in strs:
            self.err(path, "does not name the versioned context %s"
                     % self.want_context)

    def event_list(self, v, path):
        if not isinstance(v, list):
            self.err(path, "eventList must be an array")
            return
        seen = {}
        for i, ev in enumerate(v):
            p = "%s[%d]" % (path, i)
            self.event(ev, p)
            # EPCIS 2.0 §7.4.1: eventID is globally unique, so two events
            # of one document never share it.
            eid = ev.get("eventID") if isinstance(ev, dict) else None
            if isinstance(eid, str):
                if eid in seen:
                    self.err(p + ".eventID", "duplicate eventID (also %s)"
                             % seen[eid])
                seen.setdefault(eid, p)

    def document(self, doc):
        path = "$"
        if not isinstance(doc, dict):
            self.err(path, "document must be a JSON object")
            return
        t = doc.get("type")
        if t not in ("EPCISDocument", "EPCISQueryDocument"):
            self.err(path + ".type",
                     "must be EPCISDocument or EPCISQueryDocument: %r" % (t,))
            return
        self.query = t == "EPCISQueryDocument"
        self.key_names(doc, DOCUMENT_KEYS if t == "EPCISDocument" else
                       DOCUMENT_KEYS - {"instanceIdentifier", "sender",
                                        "receiver", "epcisHeader"}, path)
        if "@context" not in doc:
            self.err(path, "missing @context")
        else:
            self.context(doc["@context"], path + ".@context")
        # schemaVersion is the string "2.0" (gs1/EPCIS JSON/README.md: an
        # integer 2 is wrong, issue #201).
        if "schemaVersion" not in doc:
            self.err(path, "missing schemaVersion")
        elif doc["schemaVersion"] != "2.0":
            self.err(path + ".schemaVersion",
                     "must be the string \"2.0\": %r" % (doc["schemaVersion"],))
        if "creationDate" not in doc:
            self.err(path, "missing creationDate")
        else:
            self.time(doc["creationDate"], path + ".creationDate")
        body = doc.get("epcisBody")
        if not isinstance(body, dict):
            self.err(path, "missing epcisBody object")
            return
        if t == "EPCISDocument":
            if "eventList" not in body:
                self.err(path + ".epcisBody", "missing eventList")
            else:
                self.event_list(body["eventList"], path + ".epcisBody.eventList")
            return
        # [EPCIS-Document-JSON-Schema.json#epcisQueryDocumentBody/queryResults]
        self.key_names(body, {"queryResults"}, path + ".epcisBody")
        qr = body.get("queryResults")
        qpath = path + ".epcisBody.queryResults"
        if not isinstance(qr, dict):
            self.err(path + ".epcisBody", "missing queryResults object")
            return
        self.key_names(qr, {"queryName", "subscriptionID", "resultsBody"}, qpath)
        if not isinstance(qr.get("queryName"), str):
            self.err(qpath, "missing queryName")
        if "subscriptionID" in qr and not isinstance(qr["subscriptionID"], str):
            self.err(qpath + ".subscriptionID", "must be a string")
        rb = qr.get("resultsBody")
        if not isinstance(rb, dict):
            self.err(qpath, "missing resultsBody object")
            return
        self.key_names(rb, {"eventList", "vocabularyList"}, qpath + ".resultsBody")
        if "eventList" not in rb:
            self.err(qpath + ".resultsBody", "missing eventList")
        else:
            self.event_list(rb["eventList"], qpath + ".resultsBody.eventList")


def check_document(doc, context=None):
    """Returns a list of violations ("path: message"); [] when valid.
    context: a context URL the document must name (e.g. the versioned
    EPCIS_CONTEXT_2_0_0), beyond the rule that it names an EPCIS one."""
    c = Checker(context)
    c.document(doc)
    return c.errors


def check_file(name):
    try:
        if name == "-":
            text = sys.stdin.read()
        else:
            with open(name, encoding="utf-8") as f:
                text = f.read()
        doc = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return ["$: cannot read JSON: %s" % e]
    return check_document(doc)


# ---- self-test ----
def sample_document():
    """A query document of the shapes sigil emits, one of each event."""
    base = "https://acme.example"
    code = base + "/01/09506000134352/21/"
    common = {"eventTimeZoneOffset": "+00:00"}

    def ev(i, **kw):
        e = {"eventID": "urn:uuid:0f9e8d7c-6b5a-8493-8291-a0b1c2d3e4f%d" % i,
             "eventTime": "2026-11-23T08:01:0%d.345Z" % i,
             "recordTime": "2026-11-23T08:01:0%d.345Z" % i}
        e.update(common)
        e.update(kw)
        return e

    events = [
        ev(1, type="ObjectEvent", action="ADD", bizStep="commissioning",
           disposition="active", readPoint={"id": base},
           quantityList=[{"epcClass": base + "/01/09506000134352/10/LOT7",
                          "quantity": 1000}]),
        ev(2, type="AggregationEvent", action="ADD", bizStep="packing",
           disposition="in_progress", parentID=base + "/S/ABCDEF",
           childEPCs=[code + "1", code + "2"], readPoint={"id": base}),
        ev(3, type="AggregationEvent", action="DELETE", bizStep="unpacking",
           disposition="in_progress", parentID=base + "/S/ABCDEF",
           childEPCs=[]),
        ev(4, type="ObjectEvent", action="OBSERVE",
           bizStep="https://ref.gs1.org/cbv/BizStep-shipping",
           disposition="https://ref.gs1.org/cbv/Disp-in_transit",
           epcList=[base + "/S/ABCDEF"], readPoint={"id": base},
           sourceList=[{"type": "owning_party", "source": base}],
           destinationList=[{"type": "owning_party", "destination":
                             base + "/api/v1/distributors/3"}],
           bizTransactionList=[{"type": "desadv", "bizTransaction":
                                base + "/api/v1/shipments/9"}]),
        ev(5, type="ObjectEvent", action="OBSERVE", bizStep="receiving",
           disposition="in_progress", epcList=[],
           readPoint={"id": base + "/api/v1/distributors/3"},
           bizLocation={"id": base + "/api/v1/distributors/3"}),
        ev(6, type="ObjectEvent", action="OBSERVE", bizStep="inspecting",
           disposition="active", epcList=[code + "1"]),
        ev(7, type="ObjectEvent", action="DELETE", bizStep="decommissioning",
           disposition="inactive",
           quantityList=[{"epcClass": base + "/01/09506000134352/10/LOT7",
                          "quantity": 1000}]),
    ]
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-23T09:00:00.000Z",
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery",
                                       "resultsBody": {"eventList": events}}},
    }


def rich_document():
    """A capture document using optional parts: extensions, sensors, ilmd."""
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                     {"ex": "https://example.com/ns/"}],
        "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2024-02-29T23:59:60+08:00",
        "ex:sender": "urn:example:party:1",
        "epcisBody": {"eventList": [
            {"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00-05:30",
             "eventTimeZoneOffset": "-05:30", "action": "ADD",
             "recordTime": "2024-01-01T05:31:00Z",
             "epcList": ["urn:epc:id:sgtin:0614141.107346.2018"],
             "quantityList": [{"epcClass":
                               "urn:epc:class:lgtin:4012345.012345.998877",
                               "quantity": 2.5, "uom": "KGM"}],
             "bizStep": "urn:epcglobal:cbv:bizstep:commissioning",
             "disposition": "https://ref.gs1.org/cbv/Disp-active",
             "persistentDisposition": {"set": ["completeness_verified"]},
             "sensorElementList": [{"sensorReport": [
                 {"type": "gs1:Temperature", "value": 4.5, "uom": "CEL"}]}],
             "ilmd": {"ex:lot": "A1"}, "ex:note": {"ex:deep": [1, 2]},
             "bizTransactionList": [{"type": "urn:example:btt:order",
                                     "bizTransaction": "urn:example:bt:1"}],
             "errorDeclaration": {"declarationTime": "2024-01-02T00:00:00Z",
                                  "reason": "incorrect_data"}},
            {"type": "TransformationEvent",
             "eventTime": "2024-01-01T00:00:00+14:00",
             "eventTimeZoneOffset": "+14:00",
             "inputQuantityList": [{"epcClass": "urn:x:in", "quantity": 1}],
             "outputEPCList": ["urn:x:out"]},
            {"type": "AggregationEvent", "eventTime": "2024-01-01T00:00:00Z",
             "eventTimeZoneOffset": "-14:00", "action": "OBSERVE",
             "childQuantityList": [{"epcClass": "urn:x:c", "quantity": 3}]},
            {"type": "https://example.com/ns/CustomEvent",
             "eventTime": "2024-01-01T00:00:00Z",
             "eventTimeZoneOffset": "+00:00"},
        ]},
    }


def _events(doc):
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def _broken_samples():
    """(name, mutate(doc), substring the error must contain)."""
    def ev(i, fn):
        return lambda d: fn(_events(d)[i])

    def setk(k, v):
        return lambda e: e.__setitem__(k, v)

    def delk(k):
        return lambda e: e.pop(k)

    def capture(d):
        body = _events(d)
        d["type"] = "EPCISDocument"
        d["epcisBody"] = {"events": body}
    return [
        ("missing eventTime", ev(0, delk("eventTime")), "missing eventTime"),
        ("query result without recordTime", ev(3, delk("recordTime")),
         "missing recordTime"),
        ("recordTime without offset",
         ev(3, setk("recordTime", "2026-11-23T08:01:02")), ".recordTime"),
        ("SSCC with a wrong check digit",
         ev(1, setk("parentID", "https://id.gs1.org/00/106141412345678901")),
         "/00/106141412345678901"),
        ("SSCC of 17 digits",
         ev(1, setk("parentID", "https://id.gs1.org/00/10614141234567890")),
         "18 digits"),
        ("GLN with a wrong check digit",
         ev(4, setk("bizLocation", {"id": "https://id.gs1.org/414/0614141000001"})),
         "/414/0614141000001"),
        ("GTIN with a wrong check digit",
         ev(5, setk("epcList", ["https://acme.example/01/09506000134353/21/1"])),
         "/01/09506000134353"),
        ("Digital Link with an upper-case host",
         ev(5, setk("epcList", ["https://ACME.EXAMPLE/01/09506000134352/21/1"])),
         "upper-case"),
        ("missing eventTimeZoneOffset", ev(0, delk("eventTimeZoneOffset")),
         "missing eventTimeZoneOffset"),
        ("bad action", ev(5, setk("action", "SCAN")), ".action"),
        ("lower-case action", ev(5, setk("action", "observe")), ".action"),
        ("missing action", ev(5, delk("action")), "missing action"),
        ("unknown bizStep word", ev(5, setk("bizStep", "consumer_scanning")),
         "unknown CBV bizStep"),
        ("unknown bizStep CBV URI",
         ev(5, setk("bizStep", "https://ref.gs1.org/cbv/BizStep-scanning")),
         "unknown CBV bizStep"),
        ("unknown disposition", ev(0, setk("disposition", "sold")),
         "unknown CBV disposition"),
        ("AggregationEvent ADD without parentID", ev(1, delk("parentID")),
         "requires parentID"),
        ("AggregationEvent DELETE without parentID", ev(2, delk("parentID")),
         "requires parentID"),
        ("AggregationEvent ADD without children", ev(1, setk("childEPCs", [])),
         "childEPCs"),
        ("offset without colon", ev(0, setk("eventTimeZoneOffset", "+0000")),
         "eventTimeZoneOffset"),
        ("offset beyond +14:00", ev(0, setk("eventTimeZoneOffset", "+14:30")),
         "eventTimeZoneOffset"),
        ("offset as a name", ev(0, setk("eventTimeZoneOffset", "UTC")),
         "eventTimeZoneOffset"),
        ("offset without sign", ev(0, setk("eventTimeZoneOffset", "08:00")),
         "eventTimeZoneOffset"),
        ("eventTime without offset",
         ev(0, setk("eventTime", "2026-11-23T08:01:02.345")), ".eventTime"),
        ("eventTime impossible date",
         ev(0, setk("eventTime", "2026-02-30T08:01:02Z")), ".eventTime"),
        ("eventTime as a number", ev(0, setk("eventTime", 1700000000)),
         ".eventTime"),
        ("eventID not a URI", ev(0, setk("eventID", "1234")), ".eventID"),
        ("duplicate eventID", lambda d: _events(d)[1].__setitem__(
            "eventID", _events(d)[0]["eventID"]), "duplicate eventID"),
        ("epc with a space", ev(5, setk("epcList", ["https://a.example/S/A B"])),
         "epcList[0]"),
        ("epc without scheme", ev(5, setk("epcList", ["acme.example/S/AB"])),
         "epcList[0]"),
        ("duplicate epcList", ev(3, setk("epcList", ["urn:x:1", "urn:x:1"])),
         "duplicate"),
        ("ObjectEvent without epcList or quantityList", ev(5, delk("epcList")),
         "needs epcList"),
        ("empty quantityList", ev(0, setk("quantityList", [])), "needs epcList"),
        ("quantity missing", ev(0, setk("quantityList", [{"epcClass": "urn:x:c"}])),
         "missing quantity"),
        ("quantity as a string",
         ev(0, setk("quantityList", [{"epcClass": "urn:x:c", "quantity": "9"}])),
         "must be a number"),
        ("readPoint as a string", ev(0, setk("readPoint", "https://a.example")),
         ".readPoint"),
        ("readPoint without id", ev(0, setk("readPoint", {})), "missing id"),
        ("bad source type",
         ev(3, setk("sourceList", [{"type": "owner", "source": "urn:x:b"}])),
         "unknown CBV sdt"),
        ("destination without URI",
         ev(3, setk("destinationList", [{"type": "owning_party"}])),
         "missing destination"),
        ("bizTransaction missing",
         ev(3, setk("bizTransactionList", [{"type": "desadv"}])),
         "missing bizTransaction"),
        ("unknown bizTransaction type",
         ev(3, setk("bizTransactionList",
                    [{"type": "shipment", "bizTransaction": "urn:x:s"}])),
         "unknown CBV btt"),
        ("unknown event type", ev(0, setk("type", "ScanEvent")),
         "unknown event type"),
        ("misspelt property", ev(0, setk("bizstep", "commissioning")),
         ".bizstep"),
        ("ilmd on OBSERVE", ev(5, setk("ilmd", {})), "only allowed"),
        ("no EPCIS @context",
         lambda d: d.__setitem__("@context", ["https://schema.org"]),
         "@context"),
        ("missing @context", lambda d: d.pop("@context"), "missing @context"),
        ("schemaVersion as a number",
         lambda d: d.__setitem__("schemaVersion", 2), "schemaVersion"),
        ("missing creationDate", lambda d: d.pop("creationDate"),
         "missing creationDate"),
        ("bad document type", lambda d: d.__setitem__("type", "EPCISDoc"),
         "$.type"),
        ("query without queryName",
         lambda d: d["epcisBody"]["queryResults"].pop("queryName"),
         "missing queryName"),
        ("query without resultsBody",
         lambda d: d["epcisBody"]["queryResults"].pop("resultsBody"),
         "missing resultsBody"),
        ("capture document without eventList", capture, "missing eventList"),
        ("document is an array", None, "must be a JSON object"),
    ]


def self_test():
    failures = 0
    good = sample_document()
    errs = check_document(good)
    if errs:
        failures += 1
        print("FAIL good sample rejected:", *errs, sep="\n  ")
    else:
        print("ok   good query document passes")
    capture = sample_document()
    capture["type"] = "EPCISDocument"
    capture["epcisBody"] = {"eventList": _events(good)}
    errs = check_document(capture)
    if errs:
        failures += 1
        print("FAIL good capture document rejected:", *errs, sep="\n  ")
    else:
        print("ok   good capture document passes")
    errs = check_document(good, context=EPCIS_CONTEXT_2_0_0)
    if not any("versioned context" in e for e in errs):
        failures += 1
        print("FAIL unversioned context accepted where 2.0.0 is required")
    else:
        print("ok   unversioned context refused where 2.0.0 is required")
    errs = check_document(rich_document(), context=EPCIS_CONTEXT_2_0_0)
    if errs:
        failures += 1
        print("FAIL rich capture document rejected:", *errs, sep="\n  ")
    else:
        print("ok   rich capture document (extensions, sensors) passes")
    for name, mutate, expect in _broken_samples():
        doc = sample_document()
        if mutate is None:
            doc = [doc]
        else:
            mutate(doc)
        errs = check_document(doc)
        if not any(expect in e for e in errs):
            failures += 1
            print("FAIL %s: expected an error containing %r, got %r"
                  % (name, expect, errs))
        else:
            print("ok   %s -> %s" % (name, errs[0]))
    print("%s: epcis_check self-test, %d failure(s)"
          % ("PASS" if failures == 0 else "FAIL", failures))
    return 1 if failures else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    if len(argv) < 2 or any(a.startswith("--") for a in argv[1:]):
        print("usage: epcis_check.py FILE.json ... | --self-test",
              file=sys.stderr)
        return 2
    bad = 0
    for name in argv[1:]:
        for e in check_file(name):
            bad += 1
            print("%s: %s" % (name, e))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
