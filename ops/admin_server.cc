#include "ops/admin_server.h"

#include <chrono>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/strand.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "prometheus/text_serializer.h"

namespace pom::ops {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

absl::Status SplitHostPort(const std::string& address, std::string* host, uint16_t* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat("address \"", address, "\" is not host:port"));
  }
  std::string h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  uint32_t p = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &p) || p > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("address \"", address, "\" has no valid port"));
  }
  *host = h;
  *port = static_cast<uint16_t>(p);
  return absl::OkStatus();
}

namespace {

// Compares without an early exit, so the time taken does not tell how much of a guess matched.
bool SameSecret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

constexpr auto kRequestTimeout = std::chrono::seconds(5);

struct Handlers {
  std::shared_ptr<prometheus::Registry> registry;
  std::function<std::string()> readiness;
  std::function<void()> before_scrape;
  std::string token;
  std::string expected;  // "Bearer <token>"
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Handlers* handlers) : stream_(std::move(socket)), handlers_(handlers) {}

  void Run() {
    parser_.header_limit(8 * 1024);
    parser_.body_limit(8 * 1024);
    stream_.expires_after(kRequestTimeout);
    http::async_read(stream_, buffer_, parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) return;  // timeout, bad request or closed: drop the connection
    const auto& request = parser_.get();
    response_.version(request.version());
    response_.keep_alive(false);
    response_.set(http::field::server, "pom-admin");
    response_.set(http::field::content_type, "text/plain; charset=utf-8");
    const std::string target(request.target());
    const std::string path = target.substr(0, target.find('?'));
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      Reply(http::status::method_not_allowed, "only GET\n");
    } else if (path == "/livez") {
      Reply(http::status::ok, "ok\n");
    } else if (path == "/readyz") {
      const std::string reason = handlers_->readiness ? handlers_->readiness() : std::string();
      if (reason.empty()) {
        Reply(http::status::ok, "ready\n");
      } else {
        Reply(http::status::service_unavailable, absl::StrCat("not ready: ", reason, "\n"));
      }
    } else if (path == "/metrics") {
      const auto auth = request.find(http::field::authorization);
      if (!handlers_->token.empty() &&
          (auth == request.end() ||
           !SameSecret(std::string_view(auth->value().data(), auth->value().size()), handlers_->expected))) {
        response_.set(http::field::www_authenticate, "Bearer");
        Reply(http::status::unauthorized, "a bearer token is required\n");
      } else {
        if (handlers_->before_scrape) handlers_->before_scrape();
        response_.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        Reply(http::status::ok, prometheus::TextSerializer().Serialize(handlers_->registry->Collect()));
      }
    } else {
      Reply(http::status::not_found, "not found: the admin port serves /metrics, /livez and /readyz\n");
    }
    if (request.method() == http::verb::head) response_.body().clear();
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  void Reply(http::status status, std::string body) {
    response_.result(status);
    response_.body() = std::move(body);
  }

  beast::tcp_stream stream_;
  const Handlers* handlers_;
  beast::flat_buffer buffer_;
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
};

}  // namespace

class AdminServer::Impl {
 public:
  explicit Impl(Handlers handlers) : handlers_(std::move(handlers)), acceptor_(io_) {
    handlers_.expected = absl::StrCat("Bearer ", handlers_.token);
  }

  absl::Status Listen(const std::string& address) {
    std::string host;
    uint16_t port = 0;
    if (absl::Status s = SplitHostPort(address, &host, &port); !s.ok()) return s;
    beast::error_code ec;
    const asio::ip::address ip = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("admin address \"", address, "\": ", ec.message()));
    const tcp::endpoint endpoint(ip, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("admin address ", address, ": ", ec.message()));
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
    return absl::OkStatus();
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    asio::post(io_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(socket), &handlers_)->Run();
      Accept();
    });
  }

  Handlers handlers_;
  asio::io_context io_{1};
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  int port_ = 0;
};

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AdminServer::~AdminServer() { Stop(); }

absl::StatusOr<std::unique_ptr<AdminServer>> AdminServer::Start(AdminOptions options,
                                                                std::shared_ptr<prometheus::Registry> registry,
                                                                std::function<std::string()> readiness,
                                                                std::function<void()> before_scrape) {
  auto impl = std::make_unique<Impl>(
      Handlers{std::move(registry), std::move(readiness), std::move(before_scrape), options.metrics_token});
  if (absl::Status s = impl->Listen(options.listen); !s.ok()) return s;
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

int AdminServer::port() const { return impl_->port(); }
void AdminServer::Stop() {
  if (impl_) impl_->Stop();
}

}  // namespace pom::ops
