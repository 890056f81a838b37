package openapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/erpbridge/erpbridge/vendors/fenbeitong"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/fbtsim"
	"github.com/erpbridge/erpbridge/vendors/fenbeitong/openapi"
)

// Reading every page of the car orders created on some days, and decoding
// each order as a push.
func ExampleClient_ListCarOrders() {
	sim := fbtsim.New(fbtsim.Options{AppID: "app", AppKey: "app-key", SignKey: "sign-key"})
	created := time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC)
	for i := range 5 {
		_ = sim.AddOrder(fbtsim.BookedOrder(fmt.Sprintf("order-%d", i), created.Add(time.Duration(i)*time.Hour)))
	}
	_ = sim.SetStatus("order-2", fbtsim.StatusCompleted, fbtsim.SampleFare())
	srv := httptest.NewServer(sim)
	defer srv.Close()

	c, err := openapi.New(openapi.Config{URL: srv.URL, AppID: "app", AppKey: "app-key", SignKey: "sign-key", EmployeeID: "emp-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	q := openapi.ListQuery{CreateBegin: "2024-04-29", CreateEnd: openapi.ChinaDate(created), PageSize: 2}
	for q.PageIndex = 1; ; q.PageIndex++ {
		page, err := c.ListCarOrders(context.Background(), q)
		if err != nil {
			fmt.Println(err, "retryable:", openapi.IsRetryable(err))
			return
		}
		for _, order := range page.Results {
			ev, err := fenbeitong.Decode(order) // the same path as a push
			if err != nil {
				fmt.Println(err)
				return
			}
			car := ev.Data.(*fenbeitong.CarOrder)
			fmt.Printf("page %d/%d: %s %s %d %s\n", page.PageIndex, page.TotalPages, ev.Kind, ev.ExternalID, car.Status, car.Price.TotalPrice)
		}
		if !page.More() {
			break
		}
	}
	// Output:
	// page 1/3: car_order order-4 350 0
	// page 1/3: car_order order-3 350 0
	// page 2/3: car_order order-2 700 52.3
	// page 2/3: car_order order-1 350 0
	// page 3/3: car_order order-0 350 0
}
