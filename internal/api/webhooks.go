package api

import (
	"net/http"
	"strconv"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/outbox"
)

// registerWebhooks adds the webhook endpoints through which departments'
// systems receive the events of their cases, and system subscribers
// (owner "system:<name>") the events of any case matching their territory
// and category filters, signed, with a delivery log. System administrators
// manage any owner's endpoints; a department handler those of its own
// department, never a system subscriber.
func (a *API) registerWebhooks(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/webhooks", a.handle(a.listWebhooks, "read"))
	mux.Handle("POST /api/v1/webhooks", a.handle(a.createWebhook, "write"))
	mux.Handle("PUT /api/v1/webhooks/{id}", a.handle(a.updateWebhook, "write"))
	mux.Handle("POST /api/v1/webhooks/{id}/rotate", a.handle(a.rotateWebhook, "write"))
	mux.Handle("POST /api/v1/webhooks/{id}/disable", a.handle(a.disableWebhook, "write"))
	mux.Handle("GET /api/v1/webhooks/{id}/deliveries", a.handle(a.webhookDeliveries, "read"))
}

func (a *API) outboxReady() error {
	if a.d.Outbox == nil {
		return errs.E(errs.Unavailable, "api.webhooks", "error.unavailable")
	}
	return nil
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.outboxReady(); err != nil {
		return err
	}
	owner := r.URL.Query().Get("owner")
	if owner == "" {
		return errs.Fields("api.listWebhooks", map[string]string{"owner": "error.field.required"})
	}
	eps, err := a.d.Outbox.Endpoints(r.Context(), actor, owner)
	if err != nil {
		return err
	}
	if eps == nil {
		eps = []outbox.Endpoint{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": eps})
	return nil
}

// createWebhook answers with the endpoint and its signing secret, which is
// shown this once.
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.outboxReady(); err != nil {
		return err
	}
	var in outbox.NewEndpoint
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	ep, secret, err := a.d.Outbox.CreateEndpoint(r.Context(), actor, in)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"endpoint": ep, "secret": secret})
	return nil
}

// updateWebhook replaces an endpoint's url, events and filters and answers
// with the endpoint as it now stands.
func (a *API) updateWebhook(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.outboxReady(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in outbox.EndpointUpdate
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	ep, err := a.d.Outbox.UpdateEndpoint(r.Context(), actor, id, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"endpoint": ep})
	return nil
}

func (a *API) rotateWebhook(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.outboxReady(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	secret, err := a.d.Outbox.RotateSecret(r.Context(), actor, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"secret": secret})
	return nil
}

func (a *API) disableWebhook(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.outboxReady(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.d.Outbox.DisableEndpoint(r.Context(), actor, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) webhookDeliveries(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.outboxReady(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	after, limit, err := pageParams(r, "after")
	if err != nil {
		return err
	}
	ds, err := a.d.Outbox.Deliveries(r.Context(), actor, id, outbox.DeliveryFilter{After: after, Limit: limit})
	if err != nil {
		return err
	}
	p := Page[outbox.Delivery]{Items: ds}
	if p.Items == nil {
		p.Items = []outbox.Delivery{}
	}
	if len(ds) == limit {
		p.NextCursor = strconv.FormatInt(ds[len(ds)-1].ID, 10)
	}
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}
