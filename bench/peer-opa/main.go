// Command peer-opa is the benchmark's peer: OPA (github.com/open-policy-agent/opa, pinned
// in go.mod) evaluating a Rego policy behind Envoy's ext_authz gRPC Check, the way
// opa-envoy-plugin's envoy_ext_authz_grpc plugin does it: the CheckRequest becomes
// `input` through protojson (plus parsed_path / parsed_query), a prepared query is
// evaluated, and its result object ({allowed, headers, http_status}) becomes the
// CheckResponse. opa-envoy-plugin itself is not served by the Go module proxy this
// project can reach, so this ~150-line server stands in for it; see docs/performance.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown/cache"
	"github.com/open-policy-agent/opa/v1/util"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
)

type server struct {
	authv3.UnimplementedAuthorizationServer
	query      rego.PreparedEvalQuery
	valueCache cache.InterQueryValueCache
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9191", "gRPC listen address")
	policy := flag.String("policy", "", "Rego policy file")
	dataFile := flag.String("data", "", "JSON data document (optional)")
	query := flag.String("query", "data.envoy.authz.result", "query whose value is the decision object")
	flag.Parse()

	src, err := os.ReadFile(*policy)
	if err != nil {
		log.Fatalf("policy: %v", err)
	}
	data := map[string]interface{}{}
	if *dataFile != "" {
		bs, err := os.ReadFile(*dataFile)
		if err != nil {
			log.Fatalf("data: %v", err)
		}
		if err := util.UnmarshalJSON(bs, &data); err != nil {
			log.Fatalf("data: %v", err)
		}
	}
	// Like OPA's default inter-query builtin value cache (used by io.jwt.decode_verify's
	// verification cache when it is on): an opa-envoy-plugin deployment gets the same.
	cfg, err := cache.ParseCachingConfig(nil)
	if err != nil {
		log.Fatalf("cache config: %v", err)
	}
	vc := cache.NewInterQueryValueCache(context.Background(), cfg)
	pq, err := rego.New(
		rego.Query(*query),
		rego.Module("policy.rego", string(src)),
		rego.Store(inmem.NewFromObject(data)),
	).PrepareForEval(context.Background())
	if err != nil {
		log.Fatalf("prepare: %v", err)
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	s := grpc.NewServer()
	authv3.RegisterAuthorizationServer(s, &server{query: pq, valueCache: vc})
	fmt.Fprintf(os.Stderr, "{\"msg\":\"peer serving\",\"grpc\":%q}\n", lis.Addr().String())
	if err := s.Serve(lis); err != nil {
		log.Fatal(err)
	}
}

func (s *server) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	input, err := requestToInput(req)
	if err != nil {
		return deny(500), nil
	}
	value, err := ast.InterfaceToValue(input)
	if err != nil {
		return deny(500), nil
	}
	rs, err := s.query.Eval(ctx, rego.EvalParsedInput(value), rego.EvalInterQueryBuiltinValueCache(s.valueCache))
	if err != nil || len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return deny(403), nil
	}
	result, ok := rs[0].Expressions[0].Value.(map[string]interface{})
	if !ok {
		return deny(403), nil
	}
	if allowed, _ := result["allowed"].(bool); !allowed {
		code := 403
		if n, ok := result["http_status"].(json.Number); ok {
			if v, err := n.Int64(); err == nil {
				code = int(v)
			}
		}
		return deny(code), nil
	}
	var headers []*corev3.HeaderValueOption
	if hs, ok := result["headers"].(map[string]interface{}); ok {
		for k, v := range hs {
			if sv, ok := v.(string); ok {
				headers = append(headers, &corev3.HeaderValueOption{
					Header:       &corev3.HeaderValue{Key: k, Value: sv},
					AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
				})
			}
		}
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{Headers: headers}},
	}, nil
}

// requestToInput mirrors opa-envoy-plugin's envoyauth.RequestToInput (without body parsing).
func requestToInput(req *authv3.CheckRequest) (map[string]interface{}, error) {
	bs, err := protojson.Marshal(req)
	if err != nil {
		return nil, err
	}
	var input map[string]interface{}
	if err := util.UnmarshalJSON(bs, &input); err != nil {
		return nil, err
	}
	path := req.GetAttributes().GetRequest().GetHttp().GetPath()
	u, err := url.Parse(path)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(strings.TrimLeft(u.Path, "/"), "/")
	parsedPath := make([]interface{}, len(parts))
	for i, p := range parts {
		parsedPath[i] = p
	}
	query := map[string]interface{}{}
	for k, vs := range u.Query() {
		list := make([]interface{}, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		query[k] = list
	}
	input["parsed_path"] = parsedPath
	input["parsed_query"] = query
	return input, nil
}

func deny(httpStatus int) *authv3.CheckResponse {
	return &authv3.CheckResponse{
		Status: &rpcstatus.Status{Code: int32(codes.PermissionDenied)},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status: &typev3.HttpStatus{Code: typev3.StatusCode(httpStatus)},
		}},
	}
}
