/*
 * http_csv.c - a cell of the CSV files the dashboard downloads, as the
 * streamed exports (audit trail, customers) write them: always quoted,
 * a quote doubled, line breaks dropped, and a leading = + - @ or tab
 * defused with a ' so a spreadsheet never runs it as a formula.
 *
 * Also the client-gone step such an export's stream shares (its state
 * freed), and the customer columns and Chinese words the customer and
 * segment exports share.
 *
 * Pure: writes to the buffer it is given, calls nothing of sigil's.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "sigil/http.h"

const char *const http_csv_customer_cols[HTTP_CSV_CUSTOMER_COLS] = { "id",
	"phone", "role", "tier", "segment", "balance", "points_12m", "claims",
	"created", "last_login", "erased" };
const char *const http_csv_customer_cols_zh[HTTP_CSV_CUSTOMER_COLS] = {
	"编号", "手机号", "身份", "等级", "分群", "积分余额", "近12个月积分",
	"领取次数", "注册时间", "最近登录", "删除时间" };

static const char *const words_zh[][2] = {
	{ "consumer", "消费者" }, { "retailer", "零售商" },
	{ "sales", "业务员" }, { "champions", "核心" }, { "loyal", "忠诚" },
	{ "promising", "潜力" }, { "new", "新客" },
	{ "at_risk", "流失风险" }, { "hibernating", "沉睡" },
	{ "marketing", "营销授权" }, { "granted", "已授权" },
	{ "gender", "性别" }, { "birthday", "生日" }, { "city", "城市" },
	{ "tags", "标签" }, { "last_scan", "最近扫码" },
	{ "scan_country", "扫码国家" }, { "scan_province", "扫码省份" },
	{ "scan_city", "扫码城市" }, { "matched_at", "圈选时间" },
	{ "female", "女" }, { "male", "男" }, { "other", "其他" },
};

const char *
http_csv_zh(const char *v)
{
	if (v == NULL)
		return v;
	for (size_t i = 0; i < sizeof words_zh / sizeof words_zh[0]; i++)
		if (strcmp(v, words_zh[i][0]) == 0)
			return words_zh[i][1];
	return v;
}

void
http_csv_customer_head(struct evbuffer *out, int zh, int last)
{
	evbuffer_add(out, "\xef\xbb\xbf", 3);
	for (size_t i = 0; i < HTTP_CSV_CUSTOMER_COLS; i++)
		http_csv_cell(out, zh ? http_csv_customer_cols_zh[i] :
		    http_csv_customer_cols[i],
		    last && i + 1 == HTTP_CSV_CUSTOMER_COLS);
}

void
http_csv_cell(struct evbuffer *out, const char *v, int last)
{
	if (v == NULL)
		v = "";
	evbuffer_add(out, "\"", 1);
	if (v[0] != '\0' && strchr("=+-@\t", v[0]) != NULL)
		evbuffer_add(out, "'", 1);
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			evbuffer_add(out, "\"", 1);
		if (*p != '\r' && *p != '\n')
			evbuffer_add(out, p, 1);
	}
	evbuffer_add(out, last ? "\"\r\n" : "\",", last ? 3 : 2);
}

void
http_csv_gone(struct http_call *c, void *arg)
{
	(void)c;
	free(arg);
}
