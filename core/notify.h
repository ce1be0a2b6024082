/*
 * notify.h - one alert's message and its delivery: an e-mail through an SMTP relay (libcurl)
 * and a JSON POST to a webhook (libcurl). Blocking calls bounded by alerts.timeout: they run
 * in the alerter's worker process (alerter.h), never in a daemon's loop.
 */
#ifndef NORC_NOTIFY_H
#define NORC_NOTIFY_H

#include "alert.h"
#include "config.h"

#include <stddef.h>

/* "[norc] TASK: KIND (STATUS, instance #ID on HOST)". Caller frees. */
char *norc_notify_subject(const struct norc_alert_msg *m);
/* The plain-text body (CRLF line ends); the log link uses cfg->alerts.link when set, else
 * names the norc_log_viewer command. Caller frees. */
char *norc_notify_body(const struct norc_config *cfg, const struct norc_alert_msg *m);
/* The webhook's JSON document (a "text" member too, for chat webhooks). Caller frees. */
char *norc_notify_json(const struct norc_config *cfg, const struct norc_alert_msg *m);
/* Send the e-mail to m->email through cfg->alerts.smtp_url. err gets the reason. */
int norc_notify_email(const struct norc_config *cfg, const struct norc_alert_msg *m, char *err,
		      size_t errlen);
/* POST the JSON to m->webhook; any 2xx answer is a success. */
int norc_notify_webhook(const struct norc_config *cfg, const struct norc_alert_msg *m, char *err,
			size_t errlen);

#endif
