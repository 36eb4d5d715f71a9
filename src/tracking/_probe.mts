import { detectDevice } from '/work/main/src/tracking/device.ts';
const uas = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'curl/8.5.0', 'python-requests/2.31.0', 'Wget/1.21.4', '',
'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36'];
for (const ua of uas) console.log(JSON.stringify(detectDevice(ua)));
console.log(JSON.stringify(detectDevice(uas[9]!, JSON.stringify({fullVersionList:[{brand:'Chromium',version:'124.0.6367.82'},{brand:'Google Chrome',version:'124.0.6367.82'},{brand:'Not-A.Brand',version:'99.0.0.0'}],mobile:true,model:'Pixel 7',platform:'Android',platformVersion:'14.0.0'}))));
console.log(JSON.stringify(detectDevice(uas[0]!, JSON.stringify({fullVersionList:[{brand:'Chromium',version:'124.0.6367.82'},{brand:'Microsoft Edge',version:'124.0.2478.51'}],mobile:false,model:'',platform:'Windows',platformVersion:'15.0.0'}))));
