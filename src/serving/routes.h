#pragma once
// Internal to the serving module: what the route files (routes_*.cpp) share: the request and
// response types, the JSON answers, and the functions that give each file's rows of the route
// table.

#include <chrono>
#include <string>
#include <vector>

#include "core/json.h"

#include "core/error.h"
#include "core/home.h"
#include "serving/http_message.h"
#include "serving/payloads.h"
#include "serving/route.h"
#include "serving/route_context.h"

namespace reco::serving {

using nlohmann::json;

// The status a reco::Error answers with. 4xx only for what retrying cannot fix (the warehouse
// fails the query on 4xx and retries 429/5xx; docs/PROTOCOLS.md).
int http_status_for(ErrorKind kind);

void send_json(Response& res, int status, const json& body);
// {"error": message, "status": status, ...extra}; 503 and 429 get a Retry-After.
void send_error(Response& res, int status, const std::string& message,
                const json& extra = json::object());
void send_error(Response& res, const Error& e);

// reco's routes, in the order the 404 message lists them: the three lists below.
std::vector<RouteSpec> reco_routes();
std::vector<RouteSpec> inference_routes();          // routes_inference.cpp
std::vector<RouteSpec> deployment_routes();         // routes_deployment.cpp
std::vector<RouteSpec> external_function_routes();  // routes_external.cpp
std::vector<RouteSpec> admin_routes();              // routes_admin.cpp
std::vector<RouteSpec> registry_routes();           // routes_registry.cpp
std::vector<RouteSpec> warehouse_routes();          // routes_warehouse.cpp
std::vector<RouteSpec> console_routes();            // routes_console.cpp
std::vector<RouteSpec> task_routes();               // routes_tasks.cpp

// Deletes /train batch records older than `keep` (they only serve polls and retries).
void prune_train_batches(const Home& home, std::chrono::hours keep);

}  // namespace reco::serving
