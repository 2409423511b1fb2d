// The API docs page: Swagger UI, served by this server from its installed package (no CDN), reading
// this server's OpenAPI document. "Authorize" takes an access token from POST /api/v1/auth/login.
"use strict";

window.SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // The default validator is a remote service that would receive our whole API description.
  validatorUrl: null,
  onComplete: () => {
    document.body.dataset.ready = "true";
  },
});
