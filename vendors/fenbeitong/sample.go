package fenbeitong

import (
	"encoding/json"
	"strconv"
	"strings"
)

// SampleBody returns the car order push of the vendor's documentation page
// with the given order id, status (and its status_name) and create_time
// (also used as payment_time). The page's quirks are kept: status and price
// detail amounts are strings, one key has a trailing space, saas_info.remark
// is an object and cost_info is an object. Phone numbers are placeholders.
// It serves tests and the development command.
func SampleBody(orderID string, status int, createTime string) []byte {
	r := strings.NewReplacer(
		"{{order_id}}", jsonStringContent(orderID),
		"{{status}}", strconv.Itoa(status),
		"{{status_name}}", jsonStringContent(CarStatusName(int64(status))),
		"{{create_time}}", jsonStringContent(createTime),
	)
	return []byte(r.Replace(sampleTemplate))
}

// jsonStringContent returns s escaped for use between the quotes of a JSON string.
func jsonStringContent(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b[1 : len(b)-1])
}

// sampleTemplate is the documentation page's sample with placeholders.
const sampleTemplate = `{
	"order_info": {
		"departure_city_name": "",
		"departure_city_id ":"",
		"arrival_city_id":"",
		"arrival_city_name":"",
		"order_id": "{{order_id}}",
		"origin_order_id": "5eaab72f23445f4687vd8763",
		"status": "{{status}}",
		"status_name": "{{status_name}}",
		"supplier_order_id": "139949602000",
		"create_time": "{{create_time}}",
		"supplier_name": "曹操",
		"departure_name": "润诚中心",
		"departure_address": "东大桥路12号",
		"arrival_name": "中国人民解放军第二六三医院",
		"arrival_address": "通州区永顺南街141号",
		"order_category_type": 3,
		"order_category_name": "用车",
		"order_op_type": 10,
		"order_op_type_name": "正向单",
		"type_name": "预约",
		"sensitive": false,
		"actual_distance": 2.3,
		"payment_time": "{{create_time}}",
		"exceed_remark_reason": "地点有变动",
		"exceed_remark_detail": "详情",
		"price_detail_info": [
			{
				"name": "高速费",
				"amount": "10",
				"type": "highway_fee"
			},
			{
				"name": "起步价格",
				"amount": "14",
				"type": "start_price"
			}
		]
	},
	"price_info": {
		"total_price": 14.16,
		"personal_total_pay": 0,
		"coupon_amount": 0,
		"red_envelope": 0
	},
	"user_info": {
		"id": "5ea12bf723445f17d650fcb9",
		"name": "张三",
		"phone": "13800000001",
		"unit_id": "5747fbc10f0e60e0709d8d7d",
		"unit_name": "北京分贝金服科技有限公司"
	},
	"passenger_info": {
		"name": "张三",
		"phone": "13800000002",
		"unit_id": "5747fbc10f0e60e0709d8d7d",
		"unit_name": "北京分贝金服科技有限公司",
		"full_unit_name": "北京分贝金服科技有限公司"
	},
	"saas_info": {
		"is_exceed": false,
		"cost_category": "市场活动费",
		"remark": {
			"remark": "加班",
			"remarkDetail": "图摸摸铁路局12399"
		},
		"cost_attribution_list": [{
				"cost_attribution_id": "5747fbc10f0e60e0709d8d7d",
				"cost_attribution_category": 1,
				"cost_attribution_name": "北京分贝金服科技有限公司",
				"cost_attribution_custom_ext": [{
						"custom_field_title": "都发发发",
						"custom_field_content": "呜呜呜呜呜呜"
					},
					{
						"custom_field_title": "阿斯顿发",
						"custom_field_content": "阿萨阿啊阿"
					}
				]
		}],
		"cost_attribution":[
			{
				"type":1,
				"archive_id":"",
				"third_archive_id":"",
				"archive_name":"",
				"details":[
					{
						"name":"部门二",
						"weight":33.33,
						"amount":7,
						"third_id":"bumen2",
						"id":"5bfca57dbfd57c0523d83ce0"
					},
					{
						"name":"部门一",
						"weight":33.33,
						"amount":7,
						"third_id":"bumenyi",
						"id":"5bfb58a7bfd57c3d9d01c713"
					},
					{
						"name":"部门三",
						"weight":33.34,
						"amount":7,
						"third_id":"bumen3",
						"id":"5bfca584bfd57c0523d83ce1"
					}
				]
			},
			{
				"type":2,
				"details":[
					{
						"name":"财务项目004",
						"weight":33.34,
						"amount":7,
						"third_id":"cwxm004",
						"id":"5f717ce3aa42278ee8a11c8e"
					},
					{
						"name":"财务项目003",
						"weight":33.33,
						"amount":7,
						"third_id":"cwxm003",
						"id":"5f717ce3aa42278ee8a11c8d"
					},
					{
						"name":"财务项目002",
						"weight":33.33,
						"amount":7,
						"third_id":"cwxm002",
						"id":"5f717ce3aa42278ee8a11c8c"
					}
				]
			}
		],
		"cost_info": {
			"amount": 0.0,
			"costCategoryCode": "10001",
			"costCategory": "广告费",
			"costAttributionGroupList": [
				{
					"category": 1,
					"categoryName": "部门",
					"costAttributionRange": 1,
					"costAttributionList": [
						{
							"id": "5fec33e7aa42272efc98015e",
							"name": "大分贝测试集团",
							"fullName": "",
							"weight": 100.0,
							"price": 0.0
						}
					]
				},
				{
					"category": 2,
					"categoryName": "项目",
					"costAttributionRange": 2,
					"costAttributionList": [
						{
							"id": "61834977e08457797fc54be4",
							"code": "23646533332564538244",
							"name": "三方测试批量创建项目-44",
							"weight": 30.0,
							"price": 0.0
						},
						{
							"id": "618346c5e08457797fc54bb1",
							"code": "23648978673434242564240",
							"name": "测试批量创建项目-88",
							"weight": 70.0,
							"price": 0.0
						}
					]
				}
			]
		},
		"notifier_info": [
			{
				"notifier_id": "612488f44156833d97b7d674",
				"notifier_name": "test哒哒",
				"notifier_phone": "13800000003",
				"notifier_org_unit_id": "5fec33e7aa42272efc98015e",
				"notifier_org_unit_name": "大分贝测试集团",
				"notifier_org_unit_full_name": "大分贝测试集团"
			}
		]
	},
	"third_info": {
		"user_id": "213464191737612274",
		"unit_id": "dinge78ced08591e110bf5bf40eda33b7ba0",
		"cost_dept_id": "dinge78ced08591e110bf5bf40eda33b7ba0",
		"passenger_unit_id": "dinge78ced08591e110bf5bf40eda33b7ba0",
		"passenger_user_id": "213464191737612274",
		"apply_id": "a04d2547-9f9f-49f2-895f-124f5171b31d"
	}
}
`
