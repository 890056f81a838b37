package autox3

import (
	"encoding/json"
	"fmt"
)

// sampleStaffInfo is the envelope staffInfo of AutoX3's documented sample.
const sampleStaffInfo = `{"areaCode":"+44","brandId":114,"mobile":"17666166190","staffId":380,"staffName":"A梦 哆啦","storeId":84}`

// SampleReceptionBody returns a signed receivebase.create callback: the
// vendor's documented sample, made valid JSON, with the given ids and time.
func SampleReceptionBody(msgID string, receiveBaseID int64, createTimeMs int64, secret string) []byte {
	content := fmt.Sprintf(`{"carInfo":{"carBrandName":"BMW","carNum":"JING","carOwnerFirstName":"xiaohaha",`+
		`"carOwnerGender":"FEMALE","carOwnerLastName":"Brown","carOwnerMobile":"","carProductionDate":1325347200000,`+
		`"carStyleName":"5","carVin":"123456"},`+
		`"preCheckInfo":{"lightInfo":["20_发动机故障","16_机油不足","1_门窗未关闭","15_水温异常","19_安全气囊故障"],`+
		`"odograph":67000.0,"oilGauge":100,`+
		`"paintsInfo":[{"describe":"凹陷","images":["https://img.example.com/autox3/%d/paint-1.jpg"],`+
		`"position":"sys_feature_0013_01","positionName":"右前叶子板"}],`+
		`"personalItemList":["面包","饮用水","海百合"],"remark":"老客户了"},`+
		`"receiveBaseId":%d,`+
		`"staffInfo":{"areaCode":"+44","brandId":1,"mobile":"15010524574","storeId":3,"userId":18,"userName":"yang xing xingxing2"}}`,
		receiveBaseID, receiveBaseID)
	return BuildBody(msgID, MsgTypeReceptionCreate, createTimeMs, json.RawMessage(sampleStaffInfo), json.RawMessage(content), false, secret)
}

// SampleReportBody returns a signed detection.finish.report callback for the
// given reception order.
func SampleReportBody(msgID string, receiveBaseID int64, createTimeMs int64, secret string) []byte {
	content := fmt.Sprintf(`{"carNum":"JING","detectionPercentage":85.5,"receiveBaseId":%d,`+
		`"reportJson":{"carNum":"JING","list":[`+
		`{"checkItemName":"机油","checkResult":"正常","images":[],"level":1},`+
		`{"checkItemName":"前刹车片","checkResult":"磨损严重","images":["https://img.example.com/autox3/%d/brake.jpg"],"level":3}],`+
		`"serviceBaseName":"常规保养","workBaseStatus":"FINISH"}}`,
		receiveBaseID, receiveBaseID)
	return BuildBody(msgID, MsgTypeReport, createTimeMs, json.RawMessage(sampleStaffInfo), json.RawMessage(content), false, secret)
}

// SampleMaintenanceBody returns a signed detection.finish.maintenance
// callback (the first plan format) for the given reception order.
func SampleMaintenanceBody(msgID string, receiveBaseID int64, createTimeMs int64, secret string) []byte {
	content := fmt.Sprintf(`{"carMaintenancePlanList":[`+
		`{"currentMiles":67000,"inspectionOrderId":%d,"nextReplaceCycleKm":72000,"perMiles":5000,"reductionType":"MILE","serviceBaseName":"更换机油"},`+
		`{"currentMiles":67000,"inspectionOrderId":%d,"nextReplaceCycleKm":97000,"perMiles":30000,"reductionType":"MILE","serviceBaseName":"更换空气滤芯"}],`+
		`"carNum":"JING","receiveBaseId":%d,`+
		`"workProcedureQuestionList":[{"question":"前刹车片磨损严重","suggestion":"建议更换"}]}`,
		receiveBaseID*10, receiveBaseID*10, receiveBaseID)
	return BuildBody(msgID, MsgTypeMaintenance, createTimeMs, json.RawMessage(sampleStaffInfo), json.RawMessage(content), false, secret)
}

// SampleMaintenanceV2Body returns a signed detection.finish.maintenance.v2
// callback whose content is a JSON string holding a list of plan items of
// the given inspection order.
func SampleMaintenanceV2Body(msgID string, inspectionOrderID int64, createTimeMs int64, secret string) []byte {
	content := fmt.Sprintf(`[`+
		`{"action":"ADD","checkpointList":[{"checkpointName":"机油","status":"NORMAL"}],"currentMiles":67000,"id":"%d-1",`+
		`"inspectionOrderId":%d,"nextReplaceCycleKm":72000,"perMiles":5000,"reductionType":"MILE",`+
		`"serviceBaseName":"更换机油","serviceBaseSn":"SB-OIL","warningDate":%d},`+
		`{"action":"ADD","checkpointList":[],"currentMiles":67000,"id":"%d-2",`+
		`"inspectionOrderId":%d,"nextReplaceCycleKm":0,"perMiles":0,"reductionType":"TIME",`+
		`"serviceBaseName":"更换雨刮","serviceBaseSn":"SB-WIPER","warningDate":"2026-09-01"}]`,
		inspectionOrderID, inspectionOrderID, createTimeMs+90*24*3600*1000,
		inspectionOrderID, inspectionOrderID)
	return BuildBody(msgID, MsgTypeMaintenanceV2, createTimeMs, json.RawMessage(sampleStaffInfo), json.RawMessage(content), true, secret)
}

// SampleLargeMaintenanceV2Body is a signed v2 maintenance plan message of n
// plan items, each a plan of its own with id "<prefix>-<i>", about 350
// bytes an item as the vendor's own are: 3,000 make a message of 1 MB, the
// size of a large inspection's.
func SampleLargeMaintenanceV2Body(msgID, prefix string, inspectionOrderID int64, n int, createTimeMs int64, secret string) []byte {
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = map[string]any{
			"action": "ADD", "id": fmt.Sprintf("%s-%d", prefix, i), "inspectionOrderId": inspectionOrderID,
			"checkpointList": []map[string]any{{"checkpointName": "机油", "status": "NORMAL"}},
			"currentMiles":   67000 + i, "nextReplaceCycleKm": 72000, "perMiles": 5000, "reductionType": "MILE",
			"serviceBaseName": "更换机油", "serviceBaseSn": fmt.Sprintf("S%d", i), "warningDate": "2027-03-01",
		}
	}
	content, _ := json.Marshal(items)
	return BuildBody(msgID, MsgTypeMaintenanceV2, createTimeMs, json.RawMessage(sampleStaffInfo), content, true, secret)
}
